using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Backups;

public enum BackupStatus { Written, FileExists, FolderMissing, DatabaseMissing, AlreadyRunning, TargetBusy, WrongKey }

public sealed record BackupOutcome(BackupStatus Status, string Path, BackupManifest? Manifest = null, long SizeBytes = 0, TimeSpan Duration = default);

/// <summary>
/// <c>backup &lt;file&gt;</c>: a consistent copy of the live SQLite database and the Data Protection key ring in one zip, while
/// the app may be running and sending. The database is copied with SQLite's <c>VACUUM INTO</c>, which reads one
/// snapshot in a read transaction: in WAL mode writers carry on meanwhile, and the copy holds every committed
/// transaction up to its start and nothing after. A file copy of a live WAL database would not (the newest commits sit
/// in the -wal file, and a checkpoint may run while the copy is read). The master key is never written into the archive.
/// The key ring lives in the database since issue 18 (older versions' key folder is taken into it at start): it is taken
/// out of the snapshot and stored sealed beside it (see <see cref="KeyRingSeal"/>), so the archive's database holds no
/// key in clear. The restore puts it back where the app takes it from at start (the data folder's keys/, KeyRingImport).
/// The key ring, the phone protector and the DbContext are asked for only once the database is known to exist: in
/// Development without App:MasterKey, asking for the key ring creates master.key in the data folder, and a mistyped data
/// folder must stay untouched.
/// PostgreSQL installations are backed up with pg_dump (BackupVerbs refuses there): the key ring is one of its tables.
/// </summary>
public sealed class BackupWriter(IServiceProvider services, IOptions<DatabaseOptions> database, IOptions<AppOptions> app, TimeProvider clock,
    ILogger<BackupWriter> logger)
{
    private KeyRing KeyRing => services.GetRequiredService<KeyRing>();

    public async Task<BackupOutcome> WriteAsync(string target, bool overwrite, string requestedBy, CancellationToken ct = default)
    {
        var path = Path.GetFullPath(target);
        if ((File.Exists(path) || Directory.Exists(path)) && !overwrite) return new(BackupStatus.FileExists, path);
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) return new(BackupStatus.FolderMissing, path);
        // A mistyped data folder or connection string names no database: SQLite would create an empty one and back it up.
        var databaseFile = StorageSetup.DatabaseFile(database.Value.ConnectionString);
        if (!File.Exists(databaseFile)) return new(BackupStatus.DatabaseMissing, databaseFile);

        // One backup of a database at a time: while this run holds the lock, any partial file is a killed run's.
        var databaseFolder = Path.GetDirectoryName(databaseFile)!;
        var databaseName = Path.GetFileName(databaseFile);
        await using var running = TryLock(Path.Combine(databaseFolder, $".{databaseName}.backup.lock"));
        if (running is null) return new(BackupStatus.AlreadyRunning, databaseFile);
        // And one run per target: the partial files are named after the target, so a backup of another database to the
        // same name (another instance, another connection string) must not find its partial file removed as a leftover.
        await using var writing = TryLock(Path.Combine(folder, $".{Path.GetFileName(path)}.backup.lock"));
        if (writing is null) return new(BackupStatus.TargetBusy, path);
        RemoveLeftovers(folder, $".{Path.GetFileName(path)}.*.partial*");
        RemoveLeftovers(databaseFolder, $".{databaseName}.backup-*.db");

        var started = clock.GetUtcNow().UtcDateTime;
        var stopwatch = Stopwatch.StartNew();
        // Built under a hidden temporary name beside the target and renamed when complete: a crash or a full disk
        // never leaves a half archive under the name a restore drill would pick.
        var partial = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        // The uncompressed snapshot sits beside the live database, which holds the same data behind the same folder
        // permissions, not in the backup folder, where other users or a sync job may read what a killed run left.
        var snapshot = Path.Combine(databaseFolder, $".{databaseName}.backup-{Guid.NewGuid():N}.db");
        try
        {
            await SnapshotAsync(snapshot, ct);
            // The verb runs without the start-up's key check: the key ring must not be sealed with a key that opens nothing.
            if (!await KeyOpensAsync(snapshot, ct)) return new(BackupStatus.WrongKey, databaseFile);
            var keyRing = await TakeKeyRingAsync(snapshot, ct);
            var manifest = await WriteArchiveAsync(partial, snapshot, keyRing, started, ct);
            File.Move(partial, path, overwrite);
            var size = new FileInfo(path).Length;
            stopwatch.Stop();
            await RecordAsync(started, path, size, manifest, requestedBy, ct);
            logger.LogInformation("Backup written: {File}, {Bytes} bytes in {Elapsed} ms", path, size, stopwatch.ElapsedMilliseconds);
            return new(BackupStatus.Written, path, manifest, size, stopwatch.Elapsed);
        }
        finally
        {
            File.Delete(partial);
            File.Delete(snapshot);
        }
    }

    /// <summary>The lock file, held exclusively (flock on Linux) until disposed; null when another run holds it.</summary>
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

    private void RemoveLeftovers(string folder, string pattern)
    {
        foreach (var file in Directory.GetFiles(folder, pattern))
        {
            File.Delete(file);
            logger.LogInformation("Removed {File}, left by a backup that did not finish", file);
        }
    }

    private async Task SnapshotAsync(string snapshot, CancellationToken ct)
    {
        // VACUUM INTO fills an existing empty file: created first, so the copy is private from its first byte.
        await using (PrivateFiles.Create(snapshot)) { }
        // ReadWrite, never ReadWriteCreate: should the file vanish meanwhile, this fails instead of creating a database.
        var connectionString = new SqliteConnectionStringBuilder(database.Value.ConnectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO $file";
        command.Parameters.AddWithValue("$file", snapshot);
        // A large database takes a while; the app's busy timeout is for short writes, not for this one read.
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Whether the running master key opens the snapshot's key check value (sealed when the database was created).</summary>
    private async Task<bool> KeyOpensAsync(string snapshot, CancellationToken ct)
    {
        await using var connection = BackupArchive.Open(snapshot);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Sealed FROM KeyChecks ORDER BY Id LIMIT 1";
        if (await command.ExecuteScalarAsync(ct) is not byte[] sealedValue) return true;
        try
        {
            return services.GetRequiredService<PhoneProtector>().Decrypt(sealedValue) == KeyHealthCheck.KnownValue;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// The key ring as the snapshot holds it, one file per key as the framework's file store names them, removed from the
    /// snapshot. Keys only an older version's key folder holds (an installation not started since the upgrade) are added.
    /// <c>secure_delete</c> overwrites the removed rows' bytes: a deleted row otherwise stays readable in a free page.
    /// </summary>
    private async Task<List<(string Name, byte[] Xml)>> TakeKeyRingAsync(string snapshot, CancellationToken ct)
    {
        var keys = new List<(string Name, byte[] Xml)>();
        await using (var connection = BackupArchive.Open(snapshot))
        {
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT FriendlyName, Xml FROM DataProtectionKeys ORDER BY Id";
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    if (reader.IsDBNull(0) || reader.IsDBNull(1)) continue;
                    keys.Add((reader.GetString(0) + ".xml", System.Text.Encoding.UTF8.GetBytes(reader.GetString(1))));
                }
            }
            command.CommandText = "PRAGMA secure_delete = ON; DELETE FROM DataProtectionKeys;";
            await command.ExecuteNonQueryAsync(ct);
        }
        var keyFolder = StorageSetup.KeyRingFolder(app.Value.DataDirectory);
        if (Directory.Exists(keyFolder))
        {
            var known = keys.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var file in Directory.GetFiles(keyFolder, "*.xml").Order(StringComparer.Ordinal))
            {
                if (!known.Contains(Path.GetFileName(file))) keys.Add((Path.GetFileName(file), await File.ReadAllBytesAsync(file, ct)));
            }
        }
        // A name the restore would refuse must not make an archive that cannot be restored; the framework's are key-<guid>.
        if (keys.FirstOrDefault(k => !BackupArchive.IsKeyEntry(BackupArchive.KeyEntry(k.Name))) is { Name: not null } odd)
            throw new InvalidOperationException($"The Data Protection key '{odd.Name}' has a name a backup cannot hold; nothing was written.");
        return [.. keys.OrderBy(k => k.Name, StringComparer.Ordinal)];
    }

    private async Task<BackupManifest> WriteArchiveAsync(string partial, string snapshot, List<(string Name, byte[] Xml)> keyRing, DateTime started, CancellationToken ct)
    {
        // Counted in the snapshot, not the live database: the manifest must describe exactly what the archive holds.
        Dictionary<string, long> counts;
        string migration;
        await using (var connection = BackupArchive.Open(snapshot))
        {
            await connection.OpenAsync(ct);
            counts = await BackupArchive.CountRowsAsync(connection, ct);
            migration = await BackupArchive.LastMigrationAsync(connection, ct);
        }

        var files = new List<BackupFile>();
        BackupManifest manifest;
        await using (var file = PrivateFiles.Create(partial))
        {
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true))
            {
                files.Add(await AddFileAsync(zip, BackupArchive.DatabaseEntry, snapshot, ct));
                foreach (var (name, xml) in keyRing) files.Add(await AddSealedAsync(zip, BackupArchive.KeyEntry(name), xml, ct));
                manifest = new BackupManifest
                {
                    AppVersion = AppVersion, SchemaMigration = migration, CreatedAtUtc = started, Counts = counts, Files = files,
                };
                // The MAC covers these exact bytes: the restore checks it before it parses or unpacks anything.
                var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, BackupArchive.Json);
                await using (var stream = zip.CreateEntry(BackupArchive.ManifestEntry, CompressionLevel.Optimal).Open())
                    await stream.WriteAsync(manifestBytes, ct);
                await using (var stream = zip.CreateEntry(BackupArchive.MacEntry, CompressionLevel.NoCompression).Open())
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(BackupArchive.Mac(KeyRing, manifestBytes))), ct);
            }
            await file.FlushAsync(ct);
            file.Flush(flushToDisk: true);
        }
        return manifest;
    }

    private static async Task<BackupFile> AddFileAsync(ZipArchive zip, string name, string source, CancellationToken ct)
    {
        // Fastest: SQLite pages compress well even so, and a backup of a large database should not wait on the CPU.
        var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await using var output = entry.Open();
        var (bytes, sha256) = await BackupArchive.CopyHashedAsync(input, output, long.MaxValue, ct);
        return new BackupFile(name, bytes, sha256);
    }

    private async Task<BackupFile> AddSealedAsync(ZipArchive zip, string name, byte[] plain, CancellationToken ct)
    {
        var sealedFile = KeyRingSeal.Seal(KeyRing, name, plain);
        // Stored: sealed bytes do not compress.
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        await using var output = entry.Open();
        var (bytes, sha256) = await BackupArchive.CopyHashedAsync(new MemoryStream(sealedFile), output, long.MaxValue, ct);
        return new BackupFile(name, bytes, sha256);
    }

    private async Task RecordAsync(DateTime started, string path, long size, BackupManifest manifest, string requestedBy, CancellationToken ct)
    {
        var finished = clock.GetUtcNow().UtcDateTime;
        var db = services.GetRequiredService<AppDbContext>();
        db.BackupRuns.Add(new BackupRun
        {
            StartedAtUtc = started, FinishedAtUtc = finished, FileName = path, SizeBytes = size,
            Counts = JsonSerializer.Serialize(manifest.Counts),
        });
        db.Audit(requestedBy, "backup", $"{Path.GetFileName(path)}, {size} bytes, {manifest.Counts.GetValueOrDefault("Subscribers")} subscribers", finished);
        await db.SaveChangesAsync(ct);
    }

    public static string AppVersion { get; } =
        typeof(BackupWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
