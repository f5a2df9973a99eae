using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Backups;

public enum RestoreStatus { Restored, FileMissing, NotEmpty, NoMasterKey, Damaged, Foreign, UnknownSchema, WrongKey }

/// <param name="Detail">What the operator needs to act: the entries found, the damaged file, the unknown schema.</param>
/// <param name="KeyChecks">What the running master key opened: the key check value, a phone number, an unsubscribe link.</param>
public sealed record RestoreOutcome(RestoreStatus Status, string Detail = "", BackupManifest? Manifest = null, IReadOnlyList<string>? KeyChecks = null);

/// <summary>
/// <c>restore &lt;file&gt;</c>: unpacks a backup into an empty data folder, or changes nothing. Everything is unpacked into a
/// hidden folder inside the data folder and checked there (the manifest, every file's SHA-256, the row counts, and that
/// the running master key opens the restored data); only then are the database and the key ring moved to where the
/// configuration expects them. On any failure the hidden folder goes and the data folder is as empty as before.
/// </summary>
public sealed class BackupRestorer(IServiceProvider services, IOptions<DatabaseOptions> database, IOptions<AppOptions> app, ILogger<BackupRestorer> logger)
{
    /// <summary>Entries a fresh data folder may hold: the Development master key that belongs to the backup, and a file system's lost+found.</summary>
    private static readonly string[] AllowedInEmptyFolder = [KeyRing.DevelopmentKeyFile, "lost+found"];

    public async Task<RestoreOutcome> RestoreAsync(string archive, CancellationToken ct = default)
    {
        if (!File.Exists(archive)) return new(RestoreStatus.FileMissing, Path.GetFullPath(archive));
        var dataFolder = Path.GetFullPath(app.Value.DataDirectory);
        var databaseFile = StorageSetup.DatabaseFile(database.Value.ConnectionString);
        var keyFolder = StorageSetup.KeyRingFolder(dataFolder);

        var found = Occupants(dataFolder, databaseFile);
        if (found.Count > 0) return new(RestoreStatus.NotEmpty, string.Join(", ", found.Take(5)) + (found.Count > 5 ? $" (and {found.Count - 5} more)" : ""));
        // Without a configured key, Development would make up a new one here, which can open nothing in the backup.
        if (string.IsNullOrEmpty(app.Value.MasterKey) && !File.Exists(Path.Combine(dataFolder, KeyRing.DevelopmentKeyFile)))
            return new(RestoreStatus.NoMasterKey);

        Directory.CreateDirectory(dataFolder);
        var staging = Path.Combine(dataFolder, $".restore-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
            var (manifest, failure) = await UnpackAsync(archive, staging, ct);
            if (failure is not null) return failure;

            var stagedDatabase = Path.Combine(staging, "newsletter.db");
            var (checks, checkFailure) = await CheckAsync(stagedDatabase, manifest!, ct);
            if (checkFailure is not null) return checkFailure;
            if (!await UnsealKeyRingAsync(Path.Combine(staging, "keys"), ct)) return new(RestoreStatus.WrongKey);

            // Into place: the key ring first (a rename within the data folder), then the database; if the database
            // cannot follow, the key ring goes again, so the folder is never left half restored.
            var stagedKeys = Path.Combine(staging, "keys");
            if (Directory.Exists(stagedKeys)) Directory.Move(stagedKeys, keyFolder);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(databaseFile)!);
                File.Move(stagedDatabase, databaseFile);
            }
            catch
            {
                if (Directory.Exists(keyFolder)) Directory.Delete(keyFolder, recursive: true);
                throw;
            }
            logger.LogInformation("Restored the backup of {CreatedAt:u} into {Folder}", manifest!.CreatedAtUtc, dataFolder);
            return new(RestoreStatus.Restored, databaseFile, manifest, checks);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>What makes the target not empty: anything in the data folder but the allowed entries, and the database file wherever it lives.</summary>
    private static List<string> Occupants(string dataFolder, string databaseFile)
    {
        var found = Directory.Exists(dataFolder)
            ? Directory.EnumerateFileSystemEntries(dataFolder).Select(Path.GetFileName).OfType<string>()
                .Where(name => !AllowedInEmptyFolder.Contains(name)).Order(StringComparer.Ordinal).ToList()
            : [];
        foreach (var file in new[] { databaseFile, databaseFile + "-wal", databaseFile + "-shm" })
        {
            if (File.Exists(file) && Path.GetDirectoryName(file) != dataFolder) found.Add(file);
        }
        return found;
    }

    private static async Task<(BackupManifest?, RestoreOutcome?)> UnpackAsync(string archive, string staging, CancellationToken ct)
    {
        try
        {
            await using var file = File.OpenRead(archive);
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            var manifestEntry = zip.GetEntry(BackupArchive.ManifestEntry);
            if (manifestEntry is null) return (null, new(RestoreStatus.Foreign, "it has no manifest.json"));
            BackupManifest? manifest;
            try
            {
                await using var stream = manifestEntry.Open();
                manifest = await JsonSerializer.DeserializeAsync<BackupManifest>(stream, BackupArchive.Json, ct);
            }
            catch (JsonException)
            {
                return (null, new(RestoreStatus.Foreign, "its manifest.json is not a NewsletterMigrator manifest"));
            }
            if (manifest is not { Format: BackupManifest.FormatName, FormatVersion: BackupManifest.CurrentFormatVersion })
                return (null, new(RestoreStatus.Foreign, $"its manifest.json is not a NewsletterMigrator backup manifest (format {BackupManifest.CurrentFormatVersion})"));
            if (manifest.Files.All(f => f.Path != BackupArchive.DatabaseEntry))
                return (null, new(RestoreStatus.Foreign, "its manifest lists no database"));

            // Only what the manifest lists, and only names of our layout: nothing else is unpacked, nothing lands outside.
            var listed = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
            if (zip.Entries.FirstOrDefault(e => e.FullName != BackupArchive.ManifestEntry && !listed.Contains(e.FullName)) is { } stray)
                return (null, new(RestoreStatus.Foreign, $"it holds '{stray.FullName}', which its manifest does not list"));
            Directory.CreateDirectory(Path.Combine(staging, "keys"));
            foreach (var expected in manifest.Files)
            {
                var target = expected.Path == BackupArchive.DatabaseEntry ? Path.Combine(staging, "newsletter.db")
                    : BackupArchive.IsKeyEntry(expected.Path) ? Path.Combine(staging, "keys", BackupArchive.KeyFileName(expected.Path) + BackupArchive.SealedSuffix)
                    : null;
                if (target is null) return (null, new(RestoreStatus.Foreign, $"its manifest lists '{expected.Path}', which is not part of a backup"));
                var entry = zip.GetEntry(expected.Path);
                if (entry is null) return (null, new(RestoreStatus.Damaged, $"{expected.Path} is missing"));
                await using var input = entry.Open();
                await using var output = BackupArchive.CreatePrivate(target);
                var (bytes, sha256) = await BackupArchive.CopyHashedAsync(input, output, ct);
                if (bytes != expected.Bytes || sha256 != expected.Sha256)
                    return (null, new(RestoreStatus.Damaged, $"{expected.Path} does not match its SHA-256 in the manifest"));
            }
            return (manifest, null);
        }
        catch (InvalidDataException ex)
        {
            // A truncated or overwritten zip: no end record, a bad local header, a deflate stream that stops short.
            return (null, new(RestoreStatus.Damaged, ex.Message));
        }
    }

    private async Task<(IReadOnlyList<string>, RestoreOutcome?)> CheckAsync(string stagedDatabase, BackupManifest manifest, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var known = scope.ServiceProvider.GetRequiredService<AppDbContext>().Database.GetMigrations().ToList();
        if (!known.Contains(manifest.SchemaMigration))
            return ([], new(RestoreStatus.UnknownSchema, manifest.SchemaMigration));

        await using var connection = BackupArchive.Open(stagedDatabase);
        try
        {
            await connection.OpenAsync(ct);
            var counts = await BackupArchive.CountRowsAsync(connection, ct);
            if (manifest.Counts.FirstOrDefault(c => counts.GetValueOrDefault(c.Key, -1) != c.Value) is { Key: not null } wrong)
                return ([], new(RestoreStatus.Damaged, $"the database holds {counts.GetValueOrDefault(wrong.Key)} rows in {wrong.Key}, the manifest says {wrong.Value}"));
            var checks = await KeyChecksAsync(connection, ct);
            return checks is null ? ([], new(RestoreStatus.WrongKey)) : (checks, null);
        }
        catch (SqliteException ex)
        {
            return ([], new(RestoreStatus.Damaged, "the database cannot be read: " + ex.Message));
        }
    }

    /// <summary>
    /// Round trips through data only the master key opens: the key check value (sealed when the database was created),
    /// one stored phone number (AES-GCM fails on a wrong key) and one reader's unsubscribe link (an HMAC of the key).
    /// Null when any of them fails.
    /// </summary>
    private async Task<IReadOnlyList<string>?> KeyChecksAsync(SqliteConnection connection, CancellationToken ct)
    {
        var phones = services.GetRequiredService<PhoneProtector>();
        var tokens = services.GetRequiredService<TokenService>();
        var checks = new List<string>();

        var sealedValue = await ScalarAsync<byte[]>(connection, "SELECT Sealed FROM KeyChecks ORDER BY Id LIMIT 1", ct);
        if (sealedValue is null || !Opens(() => phones.Decrypt(sealedValue) == KeyHealthCheck.KnownValue)) return null;
        checks.Add("the key check value");

        var phone = await ScalarAsync<byte[]>(connection, "SELECT PhoneEncrypted FROM Contacts WHERE PhoneEncrypted IS NOT NULL LIMIT 1", ct);
        if (phone is not null)
        {
            if (!Opens(() => phones.Decrypt(phone).StartsWith('+'))) return null;
            checks.Add("a stored phone number");
        }

        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, TokenGeneration, UnsubscribeTokenHash FROM Subscribers LIMIT 1";
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (await reader.ReadAsync(ct))
        {
            var token = tokens.Create(TokenPurpose.Unsubscribe, reader.GetGuid(0), reader.GetInt32(1));
            if (!TokenService.Matches(token, (byte[])reader.GetValue(2))) return null;
            checks.Add("a reader's unsubscribe link");
        }
        return checks;
    }

    /// <summary>Opens the sealed key ring files with the running master key, in the staging folder; false when it cannot.</summary>
    private async Task<bool> UnsealKeyRingAsync(string stagedKeys, CancellationToken ct)
    {
        var keys = services.GetRequiredService<KeyRing>();
        foreach (var sealedFile in Directory.GetFiles(stagedKeys, "*" + BackupArchive.SealedSuffix))
        {
            var keyFile = sealedFile[..^BackupArchive.SealedSuffix.Length];
            byte[] plain;
            try
            {
                plain = KeyRingSeal.Open(keys, BackupArchive.KeyEntry(Path.GetFileName(keyFile)), await File.ReadAllBytesAsync(sealedFile, ct));
            }
            catch (CryptographicException)
            {
                return false;
            }
            await using (var output = BackupArchive.CreatePrivate(keyFile)) await output.WriteAsync(plain, ct);
            File.Delete(sealedFile);
        }
        return true;
    }

    private static bool Opens(Func<bool> decrypt)
    {
        try
        {
            return decrypt();
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static async Task<T?> ScalarAsync<T>(SqliteConnection connection, string sql, CancellationToken ct) where T : class
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(ct) as T;
    }
}
