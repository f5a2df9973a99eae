using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Backups;

/// <summary>What a backup archive says about itself (manifest.json): who made it, from which schema, what it holds.</summary>
public sealed record BackupManifest
{
    public const string FormatName = "NewsletterMigrator backup";
    public const string MasterKeyNote = "not included: keep App:MasterKey safe separately";

    /// <summary>
    /// 3: the manifest is signed (manifest.mac). 2: the key ring is sealed (KeyRingSeal), the manifest unsigned. Format 1
    /// held the key ring in clear. Older formats are not restored.
    /// </summary>
    public const int CurrentFormatVersion = 3;

    public string Format { get; init; } = FormatName;
    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public string AppVersion { get; init; } = "";
    /// <summary>The newest EF migration the database had: a restore refuses a schema this version does not know.</summary>
    public string SchemaMigration { get; init; } = "";
    public DateTime CreatedAtUtc { get; init; }
    public string MasterKey { get; init; } = MasterKeyNote;
    /// <summary>Rows per main table in the snapshot (table → rows); a restore checks the database it unpacked against them.</summary>
    public Dictionary<string, long> Counts { get; init; } = [];
    public List<BackupFile> Files { get; init; } = [];
}

/// <param name="Path">The entry's name in the archive.</param>
/// <param name="Sha256">Of the unpacked entry (a key ring file as sealed), lower-case hex.</param>
public sealed record BackupFile(string Path, long Bytes, string Sha256);

/// <summary>The archive's layout: one zip with the SQLite snapshot, the Data Protection key ring and the manifest.</summary>
public static class BackupArchive
{
    public const string ManifestEntry = "manifest.json";
    /// <summary>HMAC-SHA256 of manifest.json's exact bytes under a key derived from App:MasterKey, lower-case hex.</summary>
    public const string MacEntry = "manifest.mac";
    /// <summary>The most a manifest or its MAC may hold: both are read into memory before anything is trusted.</summary>
    public const int MaxManifestBytes = 4 << 20;
    public const string DatabaseEntry = "database/newsletter.db";
    public const string KeysFolder = "keys/";
    /// <summary>A key ring file's entry: its name in the key folder and this suffix (sealed with KeyRingSeal).</summary>
    public const string SealedSuffix = ".sealed";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The tables the manifest counts: the ones an operator compares after a restore.</summary>
    public static readonly string[] CountedTables =
    [
        "Newsletters", "ConsentTexts", "ImportBatches", "Contacts", "Subscribers", "ConsentEvents", "Campaigns",
        "OutboundMessages", "Suppressions", "ErasedSubscribers", "AuditEntries", "WhatsAppMessages", "AspNetUsers",
    ];

    /// <summary>A sealed key ring file in the archive: keys/ and a plain *.xml.sealed name, nothing that could climb out of the folder.</summary>
    public static bool IsKeyEntry(string name)
    {
        if (!name.StartsWith(KeysFolder, StringComparison.Ordinal) || !name.EndsWith(".xml" + SealedSuffix, StringComparison.Ordinal)) return false;
        var file = KeyFileName(name);
        return file.Length > 4 && !file.StartsWith('.') && file.IndexOfAny(['/', '\\', ':']) < 0 && file == Path.GetFileName(file);
    }

    /// <summary>
    /// The manifest's MAC. The manifest's SHA-256 values only check themselves: whoever can write to the backup store could
    /// alter the database (say, add an admin with a known password) and rewrite the hashes and counts to match. The MAC
    /// ties the manifest, and through its hashes every entry, to the master key, which the archive never holds.
    /// </summary>
    public static byte[] Mac(KeyRing keys, byte[] manifest) => HMACSHA256.HashData(keys.BackupManifestMacKey, manifest);

    /// <summary>Whether <paramref name="macText"/> is the manifest's MAC under the running key, compared in constant time.</summary>
    public static bool MacMatches(KeyRing keys, byte[] manifest, byte[] macText)
    {
        var expected = System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(Mac(keys, manifest)));
        return CryptographicOperations.FixedTimeEquals(expected, macText.AsSpan().Trim("\r\n "u8));
    }

    public static string KeyEntry(string keyFileName) => KeysFolder + keyFileName + SealedSuffix;

    /// <summary>The key ring file a key entry is restored to (for a name IsKeyEntry accepts).</summary>
    public static string KeyFileName(string entry) => entry[KeysFolder.Length..^SealedSuffix.Length];

    /// <summary>A connection to a snapshot file outside the app's pool, so the file can be moved or removed once it is closed.</summary>
    public static SqliteConnection Open(string file) =>
        new(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());

    public static async Task<Dictionary<string, long>> CountRowsAsync(SqliteConnection connection, CancellationToken ct)
    {
        var counts = new Dictionary<string, long>();
        foreach (var table in CountedTables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
            counts[table] = (long)(await command.ExecuteScalarAsync(ct))!;
        }
        return counts;
    }

    public static async Task<string> LastMigrationAsync(SqliteConnection connection, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MigrationId FROM \"__EFMigrationsHistory\" ORDER BY MigrationId DESC LIMIT 1";
        return await command.ExecuteScalarAsync(ct) as string ?? "";
    }

    /// <summary>
    /// Copies <paramref name="input"/> to <paramref name="output"/> and returns the bytes copied and their SHA-256. Stops
    /// as soon as more than <paramref name="maxBytes"/> arrive, without writing them: Bytes is then larger than maxBytes.
    /// </summary>
    public static async Task<(long Bytes, string Sha256)> CopyHashedAsync(Stream input, Stream output, long maxBytes, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        // Near the limit, one byte more than allowed is asked for, to tell "exactly maxBytes" from "more".
        while ((read = await input.ReadAsync(buffer.AsMemory(0, maxBytes - total < buffer.Length ? (int)(maxBytes - total) + 1 : buffer.Length), ct)) > 0)
        {
            if (total + read > maxBytes) return (total + read, "");
            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), ct);
            total += read;
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    public static string Size(long bytes) => bytes switch
    {
        >= 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 30):0.0} GiB"),
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.0} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => $"{bytes} bytes",
    };
}
