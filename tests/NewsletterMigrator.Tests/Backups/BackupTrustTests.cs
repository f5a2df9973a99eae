using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using NewsletterMigrator.Backups;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Backups;

/// <summary>
/// What the review of issue 15, point 4 found: an archive forged by whoever can write to the backup store, two restores
/// into one folder at once, and a backup of a mistyped data folder that made a master key there.
/// </summary>
public sealed class BackupTrustTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("nm-backup-trust-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Restore_refuses_an_altered_database_with_consistent_hashes_and_counts_a_manifest_signed_with_another_key_and_an_older_format()
    {
        var (archive, masterKey) = await BackupOfOneReaderAsync();
        var target = Directory.CreateDirectory(Path.Combine(_folder, "ziel")).FullName;
        var connection = $"Data Source={Path.Combine(target, "newsletter.db")}";
        // The forger's database: the reader gone (an admin row with a known password would do the same), and the
        // manifest's size, SHA-256 and counts rewritten to match, as anyone who can write to the backup store can.
        var forged = Forge(BackupCommand.Entries(archive)[BackupArchive.DatabaseEntry]);
        void Consistent(JsonObject m)
        {
            m["counts"]!["Subscribers"] = 0;
            m["files"]!.AsArray().Remove(m["files"]!.AsArray().Single(f => (string?)f!["path"] == BackupArchive.DatabaseEntry));
            BackupCommand.List(m, BackupArchive.DatabaseEntry, forged);
        }
        var copy = Path.Combine(_folder, "gefaelscht.zip");

        async Task RefusedAsync(string crafted, string expected)
        {
            var restore = await BackupCommand.RunAsync(target, connection, masterKey, ["restore", crafted]);
            Assert.True(restore.ExitCode != 0, restore.Output);
            Assert.Contains("This is not a NewsletterMigrator backup", restore.Error);
            Assert.Contains(expected, restore.Error);
            Assert.Contains("Nothing was restored.", restore.Error);
            Assert.Empty(Directory.EnumerateFileSystemEntries(target));
        }

        await RefusedAsync(BackupCommand.Craft(archive, copy, e => e[BackupArchive.DatabaseEntry] = forged, Consistent),
            "was altered after it was written, or made with another master key");
        var otherKey = Convert.ToBase64String(new byte[32]);
        await RefusedAsync(BackupCommand.Craft(archive, copy, e => e[BackupArchive.DatabaseEntry] = forged, Consistent, signWith: otherKey),
            "was altered after it was written, or made with another master key");
        await RefusedAsync(BackupCommand.Craft(archive, copy, e => { e[BackupArchive.DatabaseEntry] = forged; e.Remove(BackupArchive.MacEntry); }, Consistent),
            "it has no manifest.mac");
        await RefusedAsync(BackupCommand.Craft(archive, copy, e => e.Remove(BackupArchive.MacEntry), m => m["formatVersion"] = 2),
            "it is backup format 2, made by an older build");

        // The control: signed with the backup's own key the same forgery passes every other check, so the signature is what refused it.
        var signed = await BackupCommand.RunAsync(target, connection, masterKey,
            ["restore", BackupCommand.Craft(archive, copy, e => e[BackupArchive.DatabaseEntry] = forged, Consistent, signWith: masterKey)]);
        Assert.True(signed.ExitCode == 0, signed.Error);
    }

    [Fact]
    public async Task A_second_restore_into_the_same_folder_while_one_runs_is_refused_and_leaves_the_running_ones_files_alone()
    {
        var (archive, masterKey) = await BackupOfOneReaderAsync();
        var target = Directory.CreateDirectory(Path.Combine(_folder, "ziel")).FullName;
        // The running restore: its lock held, its staging folder half filled.
        var staging = Directory.CreateDirectory(Path.Combine(target, $".restore-{Guid.NewGuid():N}")).FullName;
        await File.WriteAllTextAsync(Path.Combine(staging, "halb"), "halb");
        await using (new FileStream(Path.Combine(target, BackupRestorer.LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose))
        {
            var second = await BackupCommand.RunAsync(target, $"Data Source={Path.Combine(target, "newsletter.db")}", masterKey, ["restore", archive]);

            Assert.True(second.ExitCode != 0, second.Output);
            Assert.Contains($"Another restore into {target} is running", second.Error);
            Assert.Contains("Nothing was restored.", second.Error);
            Assert.True(File.Exists(Path.Combine(staging, "halb")), "the second restore removed the running one's staging folder");
        }
    }

    [Fact]
    public async Task Backup_of_a_mistyped_data_folder_in_Development_without_a_master_key_creates_no_key_and_no_folder()
    {
        var missing = Path.Combine(_folder, "dta");
        var archive = Path.Combine(_folder, "sicherung.zip");

        var backup = await BackupCommand.RunAsync(missing, $"Data Source={Path.Combine(missing, "newsletter.db")}", null, ["backup", archive], environment: "Development");

        Assert.NotEqual(0, backup.ExitCode);
        Assert.Contains($"No database at {Path.Combine(missing, "newsletter.db")}", backup.Error);
        Assert.False(File.Exists(Path.Combine(missing, "master.key")), "the backup made a master key in the mistyped data folder");
        Assert.False(Directory.Exists(missing), "the backup created the data folder");
    }

    private async Task<(string Archive, string MasterKey)> BackupOfOneReaderAsync()
    {
        var archive = Path.Combine(_folder, "sicherung.zip");
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");
        await app.StopHostAsync();
        var backup = await BackupCommand.RunAsync(app, "backup", archive);
        Assert.True(backup.ExitCode == 0, backup.Error);
        return (archive, app.MasterKey);
    }

    private static byte[] Forge(byte[] database)
    {
        var file = Path.Combine(Path.GetTempPath(), $"nm-forge-{Guid.NewGuid():N}.db");
        try
        {
            File.WriteAllBytes(file, database);
            using (var connection = BackupArchive.Open(file))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "DELETE FROM Subscribers";
                command.ExecuteNonQuery();
            }
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
