using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NewsletterMigrator.Backups;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Backups;

/// <summary>
/// Runs <c>backup</c> and <c>restore</c> as the operator does: the real program in its own process (the built
/// NewsletterMigrator.dll next to the tests), on an app's data folder, database and master key.
/// </summary>
public static class BackupCommand
{
    public static Task<(int ExitCode, string Output, string Error)> RunAsync(AppFactory app, params string[] args) =>
        RunAsync(app.DataDirectory, app.Settings["Database:ConnectionString"]!, app.Settings["App:MasterKey"], args, provider: app.Provider);

    /// <param name="masterKey">Null: none configured (Development then keeps its own key in the data folder).</param>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string dataDirectory, string connectionString, string? masterKey,
        string[] args, string environment = "Production", DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = environment,
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            ["App__DataDirectory"] = dataDirectory,
            ["App__MasterKey"] = masterKey ?? "",
            ["Database__Provider"] = provider.ToString(),
            ["Database__ConnectionString"] = connectionString,
            // Outside the data folder: a restore's target must stay empty.
            ["Smtp__PickupDirectory"] = Path.Combine(Path.GetTempPath(), "nm-backup-test-pickup"),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        return await AppProcess.RunAsync(args, settings, Path.GetTempPath(), timeout: TimeSpan.FromSeconds(120));
    }

    public static BackupManifest Manifest(string archive)
    {
        using var zip = ZipFile.OpenRead(archive);
        using var stream = zip.GetEntry(BackupArchive.ManifestEntry)!.Open();
        return JsonSerializer.Deserialize<BackupManifest>(stream, BackupArchive.Json)!;
    }

    /// <summary>
    /// A copy of <paramref name="archive"/> as an attacker or a broken disk would make it: <paramref name="entries"/> may change
    /// the entries (name → content; the manifest is not among them), then <paramref name="manifest"/> the manifest's JSON.
    /// The original manifest.mac is kept, unless <paramref name="signWith"/> names a master key (base64) to sign the new
    /// manifest with: what only the key's holder could do, to reach the checks behind the signature.
    /// </summary>
    public static string Craft(string archive, string copy, Action<Dictionary<string, byte[]>>? entries = null, Action<JsonObject>? manifest = null,
        string? signWith = null)
    {
        var all = Entries(archive);
        var json = JsonNode.Parse(all[BackupArchive.ManifestEntry])!.AsObject();
        all.Remove(BackupArchive.ManifestEntry);
        entries?.Invoke(all);
        manifest?.Invoke(json);
        var manifestBytes = Encoding.UTF8.GetBytes(json.ToJsonString());
        if (signWith is not null)
            all[BackupArchive.MacEntry] = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(BackupArchive.Mac(new KeyRing(Convert.FromBase64String(signWith)), manifestBytes)));
        File.Delete(copy);
        using var zip = ZipFile.Open(copy, ZipArchiveMode.Create);
        foreach (var (name, content) in all.Append(new(BackupArchive.ManifestEntry, manifestBytes)))
        {
            using var stream = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
            stream.Write(content);
        }
        return copy;
    }

    /// <summary>The manifest's line for an entry, as the restore checks it.</summary>
    public static void List(JsonObject manifest, string name, byte[] content) =>
        manifest["files"]!.AsArray().Add(new JsonObject
        {
            ["path"] = name, ["bytes"] = content.Length, ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(content)),
        });

    /// <summary>Every entry of the archive, unpacked: what a search for a secret must look through (the zip itself is compressed).</summary>
    public static Dictionary<string, byte[]> Entries(string archive)
    {
        using var zip = ZipFile.OpenRead(archive);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
    }
}
