using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Backups;

public enum RestoreStatus { Restored, FileMissing, NotEmpty, NoMasterKey, AlreadyRunning, Damaged, Foreign, UnknownSchema, WrongKey }

/// <param name="Detail">What the operator needs to act: the entries found, the damaged file, the unknown schema.</param>
/// <param name="KeyChecks">What the running master key opened: the key check value, a phone number, an unsubscribe link.</param>
public sealed record RestoreOutcome(RestoreStatus Status, string Detail = "", BackupManifest? Manifest = null, IReadOnlyList<string>? KeyChecks = null);

/// <summary>
/// <c>restore &lt;file&gt;</c>: unpacks a backup into an empty data folder, or changes nothing. The key ring is unpacked into
/// a hidden folder inside the data folder, the database under a hidden name beside its final path, and both are checked
/// there (the manifest, every file's size and SHA-256, the schema, the row counts, and that the running master key opens
/// the restored data and the sealed key ring); only then are they renamed to where the configuration expects them, the
/// database last. On any failure the hidden files go and the data folder is as empty as before.
/// The key ring goes back as files into the data folder's keys/, the layout before issue 18: the restored database holds
/// no key (the backup took them out of its snapshot), and the app takes the files into the database at start
/// (KeyRingImport), as it does for an installation upgraded from a version with a key folder.
/// </summary>
public sealed class BackupRestorer(IServiceProvider services, IOptions<DatabaseOptions> database, IOptions<AppOptions> app, ILogger<BackupRestorer> logger)
{
    /// <summary>In the key folder while it is in place and the database not yet: a restore killed there left it.</summary>
    public const string PendingMark = ".restore-pending";

    /// <summary>The restorer's hidden names: its staging folder in the data folder, and the staged database's suffix.</summary>
    private const string StagingName = ".restore-";

    /// <summary>The lock a restore holds in the data folder from start to end (removed when it ends).</summary>
    public const string LockName = ".restore.lock";

    /// <summary>
    /// Entries a fresh data folder may hold: the Development master key that belongs to the backup, a file system's
    /// lost+found, and the restore's own lock.
    /// </summary>
    private static readonly string[] AllowedInEmptyFolder = [KeyRing.DevelopmentKeyFile, "lost+found", LockName];

    public async Task<RestoreOutcome> RestoreAsync(string archive, CancellationToken ct = default)
    {
        if (!File.Exists(archive)) return new(RestoreStatus.FileMissing, Path.GetFullPath(archive));
        var dataFolder = Path.GetFullPath(app.Value.DataDirectory);
        var databaseFile = StorageSetup.DatabaseFile(database.Value.ConnectionString);
        var databaseFolder = Path.GetDirectoryName(databaseFile)!;
        var keyFolder = StorageSetup.KeyRingFolder(dataFolder);

        // Two operators, or a retried docker run: without the lock the second would remove the first one's staging
        // folder and staged database as a killed run's leftovers. The lock lives in the data folder, made for it if need be.
        var madeDataFolder = !Directory.Exists(dataFolder);
        Directory.CreateDirectory(dataFolder);
        RestoreOutcome? outcome = null;
        try
        {
            await using var running = TryLock(Path.Combine(dataFolder, LockName));
            if (running is null) return outcome = new(RestoreStatus.AlreadyRunning, dataFolder);
            return outcome = await RestoreLockedAsync(archive, dataFolder, databaseFile, databaseFolder, keyFolder, ct);
        }
        finally
        {
            // A refused restore leaves no folder it made behind.
            if (madeDataFolder && outcome?.Status != RestoreStatus.Restored && Directory.Exists(dataFolder) && !Directory.EnumerateFileSystemEntries(dataFolder).Any())
                Directory.Delete(dataFolder);
        }
    }

    /// <summary>The lock file, held exclusively (flock on Linux) until disposed; null when another restore holds it.</summary>
    private static FileStream? TryLock(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    private async Task<RestoreOutcome> RestoreLockedAsync(string archive, string dataFolder, string databaseFile, string databaseFolder, string keyFolder,
        CancellationToken ct)
    {
        RemoveLeftovers(dataFolder, databaseFile, keyFolder);
        var found = Occupants(dataFolder, databaseFile);
        if (found.Count > 0) return new(RestoreStatus.NotEmpty, string.Join(", ", found.Take(5)) + (found.Count > 5 ? $" (and {found.Count - 5} more)" : ""));
        // Without a configured key, Development would make up a new one here, which can open nothing in the backup.
        if (string.IsNullOrEmpty(app.Value.MasterKey) && !File.Exists(Path.Combine(dataFolder, KeyRing.DevelopmentKeyFile)))
            return new(RestoreStatus.NoMasterKey);

        Directory.CreateDirectory(databaseFolder);
        var run = Guid.NewGuid().ToString("N");
        var staging = Path.Combine(dataFolder, StagingName + run);
        // Beside its final path, so putting it in place is a rename: a move to another file system would be a copy, which
        // a kill could leave half done under the live name.
        var stagedDatabase = Path.Combine(databaseFolder, $".{Path.GetFileName(databaseFile)}{StagingName}{run}");
        try
        {
            PrivateFiles.CreateDirectory(staging);
            var (manifest, failure) = await UnpackAsync(archive, staging, stagedDatabase, ct);
            if (failure is not null) return failure;

            var (checks, checkFailure) = await CheckAsync(stagedDatabase, manifest!, ct);
            if (checkFailure is not null) return checkFailure;
            var stagedKeys = Path.Combine(staging, "keys");
            if (!await UnsealKeyRingAsync(stagedKeys, ct)) return new(RestoreStatus.WrongKey);

            // Into place, a rename each: the key ring first, marked as the restore's own until the database has followed,
            // so a kill in between leaves what the next restore recognises and removes, not a folder it refuses forever.
            await using (PrivateFiles.Create(Path.Combine(stagedKeys, PendingMark))) { }
            Directory.Move(stagedKeys, keyFolder);
            try
            {
                File.Move(stagedDatabase, databaseFile);
            }
            catch
            {
                Directory.Delete(keyFolder, recursive: true);
                throw;
            }
            File.Delete(Path.Combine(keyFolder, PendingMark));
            logger.LogInformation("Restored the backup of {CreatedAt:u} into {Folder}", manifest!.CreatedAtUtc, dataFolder);
            return new(RestoreStatus.Restored, databaseFile, manifest, checks);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            foreach (var file in SqliteFiles(stagedDatabase)) File.Delete(file);
        }
    }

    /// <summary>
    /// What a restore killed half-way left: its staging folder, its staged database, and a key ring it had put in place
    /// before the database followed (a key folder with the pending mark and no database beside it).
    /// </summary>
    private void RemoveLeftovers(string dataFolder, string databaseFile, string keyFolder)
    {
        var leftovers = new List<string>();
        if (Directory.Exists(dataFolder))
        {
            foreach (var folder in Directory.GetDirectories(dataFolder, StagingName + "*"))
            {
                Directory.Delete(folder, recursive: true);
                leftovers.Add(folder);
            }
        }
        var databaseFolder = Path.GetDirectoryName(databaseFile)!;
        if (Directory.Exists(databaseFolder))
        {
            foreach (var file in Directory.GetFiles(databaseFolder, $".{Path.GetFileName(databaseFile)}{StagingName}*"))
            {
                File.Delete(file);
                leftovers.Add(file);
            }
        }
        var mark = Path.Combine(keyFolder, PendingMark);
        if (File.Exists(mark))
        {
            // With the database in place the restore was complete but for removing the mark.
            if (File.Exists(databaseFile)) File.Delete(mark);
            else Directory.Delete(keyFolder, recursive: true);
            leftovers.Add(keyFolder);
        }
        foreach (var leftover in leftovers) logger.LogWarning("Removed {Path}, left by a restore that did not finish", leftover);
    }

    private static IEnumerable<string> SqliteFiles(string database) =>
        new[] { database, database + "-wal", database + "-shm", database + "-journal" }.Where(File.Exists);

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

    private async Task<(BackupManifest?, RestoreOutcome?)> UnpackAsync(string archive, string staging, string stagedDatabase, CancellationToken ct)
    {
        try
        {
            await using var file = File.OpenRead(archive);
            using var zip = new ZipArchive(file, ZipArchiveMode.Read);
            var manifestEntry = zip.GetEntry(BackupArchive.ManifestEntry);
            if (manifestEntry is null) return (null, new(RestoreStatus.Foreign, "it has no manifest.json"));
            var manifestBytes = await ReadSmallAsync(manifestEntry, ct);
            if (manifestBytes is null) return (null, new(RestoreStatus.Foreign, "its manifest.json is far too large for a manifest"));
            var macEntry = zip.GetEntry(BackupArchive.MacEntry);
            var mac = macEntry is null ? null : await ReadSmallAsync(macEntry, ct);
            // The MAC first: nothing an unsigned or altered manifest lists is unpacked, and none of its claims is believed.
            if (mac is null)
            {
                return (null, new(RestoreStatus.Foreign, ParseManifest(manifestBytes) is { Format: BackupManifest.FormatName, FormatVersion: < BackupManifest.CurrentFormatVersion } old
                    ? $"it is backup format {old.FormatVersion}, made by an older build, without the signed manifest this build requires (format {BackupManifest.CurrentFormatVersion}); restore it with the build that made it (app {old.AppVersion})"
                    : "it has no manifest.mac (the manifest's signature)"));
            }
            if (!BackupArchive.MacMatches(services.GetRequiredService<KeyRing>(), manifestBytes, mac))
                return (null, new(RestoreStatus.Foreign, "its manifest's signature (manifest.mac) does not match App:MasterKey: the archive was altered after it was written, or made with another master key"));

            var manifest = ParseManifest(manifestBytes);
            if (manifest is not { Format: BackupManifest.FormatName, FormatVersion: BackupManifest.CurrentFormatVersion })
                return (null, new(RestoreStatus.Foreign, $"its manifest.json is not a NewsletterMigrator backup manifest (format {BackupManifest.CurrentFormatVersion})"));
            if (ManifestProblem(manifest) is { } problem) return (null, new(RestoreStatus.Foreign, problem));
            if (manifest.Files.All(f => f.Path != BackupArchive.DatabaseEntry))
                return (null, new(RestoreStatus.Foreign, "its manifest lists no database"));

            // Only what the manifest lists, and only names of our layout: nothing else is unpacked, nothing lands outside.
            var listed = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
            if (zip.Entries.FirstOrDefault(e => e.FullName != BackupArchive.ManifestEntry && e.FullName != BackupArchive.MacEntry && !listed.Contains(e.FullName)) is { } stray)
                return (null, new(RestoreStatus.Foreign, $"it holds '{stray.FullName}', which its manifest does not list"));
            PrivateFiles.CreateDirectory(Path.Combine(staging, "keys"));
            foreach (var expected in manifest.Files)
            {
                var target = expected.Path == BackupArchive.DatabaseEntry ? stagedDatabase
                    : BackupArchive.IsKeyEntry(expected.Path) ? Path.Combine(staging, "keys", BackupArchive.KeyFileName(expected.Path) + BackupArchive.SealedSuffix)
                    : null;
                if (target is null) return (null, new(RestoreStatus.Foreign, $"its manifest lists '{expected.Path}', which is not part of a backup"));
                var entry = zip.GetEntry(expected.Path);
                if (entry is null) return (null, new(RestoreStatus.Damaged, $"{expected.Path} is missing"));
                await using var input = entry.Open();
                await using var output = PrivateFiles.Create(target);
                // Stops as soon as the entry holds more than the manifest lists: a crafted entry must not fill the disk.
                var (bytes, sha256) = await BackupArchive.CopyHashedAsync(input, output, expected.Bytes, ct);
                if (bytes > expected.Bytes) return (null, new(RestoreStatus.Damaged, $"{expected.Path} is larger than its manifest says ({expected.Bytes} bytes)"));
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

    /// <summary>An entry's bytes, or null when it holds more than a manifest may.</summary>
    private static async Task<byte[]?> ReadSmallAsync(ZipArchiveEntry entry, CancellationToken ct)
    {
        await using var input = entry.Open();
        using var copy = new MemoryStream();
        var (bytes, _) = await BackupArchive.CopyHashedAsync(input, copy, BackupArchive.MaxManifestBytes, ct);
        return bytes > BackupArchive.MaxManifestBytes ? null : copy.ToArray();
    }

    private static BackupManifest? ParseManifest(byte[] manifest)
    {
        try
        {
            return JsonSerializer.Deserialize<BackupManifest>(manifest, BackupArchive.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A manifest of the right format whose parts are missing (JSON null) or contradict each other: a foreign or forged file.</summary>
    private static string? ManifestProblem(BackupManifest manifest)
    {
        // The JSON may hold null where the types say otherwise.
        if (manifest.Counts is null || manifest.Files is null || manifest.SchemaMigration is null || manifest.AppVersion is null)
            return "its manifest.json lacks the counts, the files, the schema or the app version";
        if (manifest.Files.Any(f => f is null || f.Path is null || f.Sha256 is null || f.Bytes < 0))
            return "its manifest.json lists a file without a name, size or SHA-256";
        if (manifest.Files.DistinctBy(f => f.Path).Count() != manifest.Files.Count)
            return "its manifest.json lists a file twice";
        return null;
    }

    private async Task<(IReadOnlyList<string>, RestoreOutcome?)> CheckAsync(string stagedDatabase, BackupManifest manifest, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var known = scope.ServiceProvider.GetRequiredService<AppDbContext>().Database.GetMigrations().ToList();

        await using var connection = BackupArchive.Open(stagedDatabase);
        try
        {
            await connection.OpenAsync(ct);
            // The database's own history, not only the manifest's word: this build must know the schema it finds.
            var schema = await BackupArchive.LastMigrationAsync(connection, ct);
            if (!known.Contains(schema)) return ([], new(RestoreStatus.UnknownSchema, schema, manifest));
            if (schema != manifest.SchemaMigration)
                return ([], new(RestoreStatus.Damaged, $"the database's schema is {schema}, the manifest says {manifest.SchemaMigration}"));
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
            await using (var output = PrivateFiles.Create(keyFile)) await output.WriteAsync(plain, ct);
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
