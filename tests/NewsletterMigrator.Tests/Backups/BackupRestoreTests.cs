using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Backups;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests.Backups;

/// <summary>
/// Issue 15, point 4: <c>backup</c> while a campaign sends, <c>restore</c> into a fresh data folder, and a second app on the
/// restored data that still honours the links readers already hold. The verbs run as their own processes, as an operator
/// runs them next to the live app.
/// </summary>
public sealed class BackupRestoreTests : IDisposable
{
    private const string Address = "leserin@example.test";
    private readonly string _folder = Directory.CreateTempSubdirectory("nm-backups-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_backup_taken_while_a_campaign_sends_restores_into_a_fresh_folder_where_counts_personal_links_and_one_click_unsubscribe_still_work()
    {
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite);
        var newsletter = await app.NewsletterAsync();
        await app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Erika"), ("0171 2222222", "Max"));
        await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", Address);
        // The mail whose links the reader keeps: sent before the backup.
        var mailBefore = await app.NewsletterMailAsync(app.Smtp, newsletter, Address, "Ausgabe 1");
        await app.ConfirmedReadersAsync(newsletter, SendingTestData.Addresses(120));

        // A slow server: the campaign is still sending when the backup reads its snapshot.
        app.Smtp.Delay = TimeSpan.FromMilliseconds(150);
        var campaign = await app.CampaignAsync(newsletter, "Ausgabe 2");
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db =>
            db.OutboundMessages.AnyAsync(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent)));

        var archive = Path.Combine(_folder, "sicherung.zip");
        var backup = await BackupCommand.RunAsync(app, "backup", archive);
        app.Smtp.Delay = TimeSpan.Zero;
        Assert.True(backup.ExitCode == 0, backup.Error);
        Assert.Contains($"Backup written: {archive}", backup.Output);
        Assert.Contains("keep App:MasterKey safe separately", backup.Output);
        var manifest = BackupCommand.Manifest(archive);
        Assert.Equal(121, manifest.Counts["Subscribers"]);
        Assert.Equal(2, manifest.Counts["Contacts"]);
        Assert.Contains(manifest.Files, f => BackupArchive.IsKeyEntry(f.Path));
        // The key ring is sealed with a key derived from App:MasterKey: the archive alone (it holds the staff's security
        // stamps) is not enough to forge a staff sign-in cookie for the live site.
        // The key ring lives in the database (issue 18): the archive's database must not hold it in clear either.
        var keyRing = await KeyRingAsync(app);
        Assert.NotEmpty(keyRing);
        var keyMaterial = keyRing.Select(k => Regex.Match(k.Xml, "<value>([^<]+)</value>").Groups[1].Value).ToList();
        Assert.All(keyMaterial, value => Assert.True(value.Length >= 40, value));
        foreach (var (name, content) in BackupCommand.Entries(archive))
        {
            Assert.True(content.AsSpan().IndexOf("<key "u8) < 0, $"{name} holds a Data Protection key in clear");
            foreach (var value in keyMaterial) Assert.True(content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(value)) < 0, $"{name} holds key material in clear");
        }
        // The run is on record for the dashboard.
        var run = await app.WithDbAsync(db => db.BackupRuns.SingleAsync());
        Assert.Equal(archive, run.FileName);
        Assert.Equal(new FileInfo(archive).Length, run.SizeBytes);

        await using var restored = new AppFactory(settings: new() { ["App:MasterKey"] = app.MasterKey }, provider: DatabaseProvider.Sqlite);
        var restore = await BackupCommand.RunAsync(restored, "restore", archive);
        Assert.True(restore.ExitCode == 0, restore.Error + restore.Output);
        Assert.Contains("Subscribers 121", restore.Output);
        Assert.Contains("App:MasterKey opens the key check value, a stored phone number, a reader's unsubscribe link", restore.Output);
        // The key ring is back as it was, in the data folder's keys/ until the app on the restored data takes it into its
        // database at start: cookies and antiforgery tokens made before the backup still open.
        Assert.Equal(keyRing.Select(k => k.Name + ".xml"), Directory.GetFiles(Path.Combine(restored.DataDirectory, "keys")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(keyRing, await KeyRingAsync(restored));

        // The snapshot was taken mid-send: part of the campaign delivered, part still to go.
        var statuses = await CampaignStatusesAsync(Path.Combine(restored.DataDirectory, "test.db"), campaign);
        Assert.True(statuses.GetValueOrDefault(MessageStatus.Sent) > 0, string.Join(", ", statuses));
        Assert.True(statuses.GetValueOrDefault(MessageStatus.Queued) + statuses.GetValueOrDefault(MessageStatus.Leased) > 0, string.Join(", ", statuses));

        // The second app on the restored data: the same rows the manifest counted.
        Assert.Equal(manifest.Counts["Subscribers"], await restored.WithDbAsync(db => db.Subscribers.CountAsync()));
        Assert.Equal(manifest.Counts["Contacts"], await restored.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));
        Assert.Equal(manifest.Counts["OutboundMessages"], await restored.WithDbAsync(db => db.OutboundMessages.CountAsync()));
        Assert.Equal(manifest.Counts["ConsentEvents"], await restored.WithDbAsync(db => db.ConsentEvents.CountAsync()));
        Assert.Equal(manifest.Counts["Newsletters"], await restored.WithDbAsync(db => db.Newsletters.CountAsync()));

        // The reader's personal link from the mail sent before the backup opens their page on the restored app …
        var reader = restored.Reader();
        var manage = await reader.GetAsync(ReaderSteps.PathOf(mailBefore, "/manage/"));
        Assert.Equal(HttpStatusCode.OK, manage.StatusCode);
        Assert.Contains("Sie erhalten den Newsletter", await manage.Content.ReadAsStringAsync());
        // … and the mail client's one-click unsubscribe (RFC 8058) still ends the subscription.
        var oneClick = await reader.PostAsync(ReaderSteps.PathOf(mailBefore, "/u/"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }));
        Assert.Equal(HttpStatusCode.OK, oneClick.StatusCode);
        Assert.Equal(SubscriberStatus.Unsubscribed, await restored.WithDbAsync(db => db.Subscribers.Where(s => s.EmailKey == Address).Select(s => s.Status).SingleAsync()));
    }

    [Fact]
    public async Task Restore_refuses_a_wrong_master_key_a_non_empty_folder_and_a_truncated_or_foreign_archive_and_leaves_the_folder_as_it_was()
    {
        var archive = Path.Combine(_folder, "sicherung.zip");
        await using (var app = new AppFactory(provider: DatabaseProvider.Sqlite))
        {
            var newsletter = await app.NewsletterAsync();
            await app.ConfirmedReadersAsync(newsletter, Address);
            await app.StopHostAsync();
            var backup = await BackupCommand.RunAsync(app, "backup", archive);
            Assert.True(backup.ExitCode == 0, backup.Error);

            // Never over an existing archive without --force, and never half written.
            var again = await BackupCommand.RunAsync(app, "backup", archive);
            Assert.NotEqual(0, again.ExitCode);
            Assert.Contains("exists already", again.Error);
            Assert.Contains("--force", again.Error);
            Assert.Equal(0, (await BackupCommand.RunAsync(app, "backup", archive, "--force")).ExitCode);
            // Under another master key the key ring would be sealed with a key that opens nothing: refused, nothing written.
            var otherKey = await BackupCommand.RunAsync(app.DataDirectory, app.Settings["Database:ConnectionString"]!, Convert.ToBase64String(new byte[32]),
                ["backup", Path.Combine(_folder, "falscher-schluessel.zip")]);
            Assert.NotEqual(0, otherKey.ExitCode);
            Assert.Contains("App:MasterKey cannot read this database", otherKey.Error);
            Assert.Equal(["sicherung.zip"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        }

        var target = Directory.CreateTempSubdirectory("nm-restore-").FullName;
        try
        {
            var connection = $"Data Source={Path.Combine(target, "newsletter.db")}";

            var wrongKey = await BackupCommand.RunAsync(target, connection, Convert.ToBase64String(new byte[32]), ["restore", archive]);
            Assert.NotEqual(0, wrongKey.ExitCode);
            Assert.Contains("made with another master key", wrongKey.Error);
            Assert.Empty(Directory.EnumerateFileSystemEntries(target));

            var truncated = Path.Combine(_folder, "abgeschnitten.zip");
            var bytes = await File.ReadAllBytesAsync(archive);
            await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length * 2 / 3)]);
            var cut = await BackupCommand.RunAsync(target, connection, Convert.ToBase64String(new byte[32]), ["restore", truncated]);
            Assert.NotEqual(0, cut.ExitCode);
            Assert.Contains("The archive is damaged or incomplete", cut.Error);
            Assert.Empty(Directory.EnumerateFileSystemEntries(target));

            // A zip that is no backup of ours: refused before anything is unpacked.
            var foreign = Path.Combine(_folder, "fremd.zip");
            using (var zip = System.IO.Compression.ZipFile.Open(foreign, System.IO.Compression.ZipArchiveMode.Create))
            await using (var writer = new StreamWriter(zip.CreateEntry("manifest.json").Open()))
                await writer.WriteAsync("{\"format\": \"something else\", \"files\": []}");
            var other = await BackupCommand.RunAsync(target, connection, Convert.ToBase64String(new byte[32]), ["restore", foreign]);
            Assert.NotEqual(0, other.ExitCode);
            Assert.Contains("This is not a NewsletterMigrator backup", other.Error);
            Assert.Empty(Directory.EnumerateFileSystemEntries(target));

            var note = Path.Combine(target, "notiz.txt");
            await File.WriteAllTextAsync(note, "schon belegt");
            var occupied = await BackupCommand.RunAsync(target, connection, Convert.ToBase64String(new byte[32]), ["restore", archive]);
            Assert.NotEqual(0, occupied.ExitCode);
            Assert.Contains("The data folder is not empty (notiz.txt)", occupied.Error);
            Assert.Equal([note], Directory.EnumerateFileSystemEntries(target));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(target, recursive: true);
        }
    }

    [Fact]
    public async Task The_archive_holds_no_master_key_neither_the_configured_one_nor_Developments_key_file_in_the_data_folder()
    {
        var data = Directory.CreateTempSubdirectory("nm-devkey-").FullName;
        try
        {
            var connection = $"Data Source={Path.Combine(data, "newsletter.db")}";
            var archive = Path.Combine(_folder, "sicherung.zip");
            // Development without App:MasterKey: the app makes its key in the data folder, right beside what is backed up.
            Assert.Equal(0, (await BackupCommand.RunAsync(data, connection, null, ["migrate"], environment: "Development")).ExitCode);
            var backup = await BackupCommand.RunAsync(data, connection, null, ["backup", archive], environment: "Development");
            Assert.True(backup.ExitCode == 0, backup.Error);
            Assert.Contains("The master key (App:MasterKey) is NOT in the archive", backup.Output);
            var key = (await File.ReadAllTextAsync(Path.Combine(data, "master.key"))).Trim();
            AssertNotIn(archive, key);

            var configured = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var other = Path.Combine(data, "other.db");
            Assert.Equal(0, (await BackupCommand.RunAsync(data, $"Data Source={other}", configured, ["migrate"])).ExitCode);
            var withKey = await BackupCommand.RunAsync(data, $"Data Source={other}", configured, ["backup", archive, "--force"]);
            Assert.True(withKey.ExitCode == 0, withKey.Error);
            AssertNotIn(archive, configured);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Backup_of_a_mistyped_data_folder_refuses_with_a_clear_message_and_creates_no_database()
    {
        var missing = Path.Combine(_folder, "dta");
        var connection = $"Data Source={Path.Combine(missing, "newsletter.db")}";
        var archive = Path.Combine(_folder, "sicherung.zip");

        var backup = await BackupCommand.RunAsync(missing, connection, Convert.ToBase64String(new byte[32]), ["backup", archive]);

        Assert.NotEqual(0, backup.ExitCode);
        Assert.Contains($"No database at {Path.Combine(missing, "newsletter.db")}", backup.Error);
        Assert.Contains("nothing was written", backup.Error);
        Assert.False(Directory.Exists(missing), "the backup created the data folder");
        Assert.False(File.Exists(archive), "the backup wrote an archive of nothing");
    }

    [Fact]
    public async Task The_archive_is_readable_by_its_owner_only_and_a_backup_clears_the_partial_files_a_killed_run_left()
    {
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Address);
        var archive = Path.Combine(_folder, "sicherung.zip");
        // What a backup killed half-way left: the half archive and the uncompressed copy of the database.
        var stale = new[] { $".sicherung.zip.{Guid.NewGuid():N}.partial", $".sicherung.zip.{Guid.NewGuid():N}.partial.db" }
            .Select(name => Path.Combine(_folder, name)).ToList();
        foreach (var file in stale) await File.WriteAllTextAsync(file, "half");

        var backup = await BackupCommand.RunAsync(app, "backup", archive);

        Assert.True(backup.ExitCode == 0, backup.Error);
        // Linux (CI, the container) has file modes; Windows has ACLs, which the folder's inherit.
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(archive) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute));
        Assert.Equal(["sicherung.zip"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        // Nor does the uncompressed snapshot stay beside the live database.
        Assert.DoesNotContain(Directory.GetFiles(app.DataDirectory), f => Path.GetFileName(f).Contains("backup", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_refuses_crafted_or_altered_archives_with_a_clear_message_and_unpacks_nothing_anywhere()
    {
        var (archive, masterKey) = await BackupOfOneReaderAsync();
        var manifest = BackupCommand.Manifest(archive);
        var target = Directory.CreateTempSubdirectory("nm-restore-").FullName;
        var outside = Path.Combine(Path.GetDirectoryName(target)!, $"nm-slip-{Guid.NewGuid():N}");
        try
        {
            async Task RefusedAsync(string crafted, params string[] expected)
            {
                var restore = await BackupCommand.RunAsync(target, $"Data Source={Path.Combine(target, "newsletter.db")}", masterKey, ["restore", crafted]);
                Assert.True(restore.ExitCode != 0, restore.Output);
                foreach (var text in expected) Assert.Contains(text, restore.Error);
                Assert.Contains("Nothing was restored.", restore.Error);
                Assert.DoesNotContain("   at ", restore.Error);
                Assert.Empty(Directory.EnumerateFileSystemEntries(target));
                Assert.False(File.Exists(outside), "an entry landed outside the data folder");
            }
            var copy = Path.Combine(_folder, "verändert.zip");
            const string foreign = "This is not a NewsletterMigrator backup";
            const string damaged = "The archive is damaged or incomplete";

            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => m["counts"] = null, signWith: masterKey), foreign, "manifest");
            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => m["files"]!.AsArray().Add(null), signWith: masterKey), foreign, "manifest");
            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => m["files"]!.AsArray().Add(new JsonObject()), signWith: masterKey), foreign, "manifest");

            // Zip slip: names that climb out of the folder or name an absolute path, listed in the manifest as if they belonged.
            var slip = "../" + Path.GetFileName(outside);
            foreach (var name in new[] { slip, outside, $"keys/../{slip}.xml.sealed", "keys/..\\x.xml.sealed" })
            {
                var bytes = "bösartig"u8.ToArray();
                await RefusedAsync(BackupCommand.Craft(archive, copy, e => e[name] = bytes, m => BackupCommand.List(m, name, bytes), masterKey), foreign, $"'{name}'");
            }

            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => DatabaseLine(m)["sha256"] = new string('0', 64), signWith: masterKey),
                damaged, "database/newsletter.db does not match its SHA-256");
            // More bytes than the manifest lists: the restore stops reading there (a crafted entry could fill the disk).
            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => DatabaseLine(m)["bytes"] = 4096, signWith: masterKey),
                damaged, "database/newsletter.db is larger than its manifest says");
            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => m["counts"]!["Subscribers"] = manifest.Counts["Subscribers"] + 1, signWith: masterKey),
                damaged, $"the database holds {manifest.Counts["Subscribers"]} rows in Subscribers, the manifest says {manifest.Counts["Subscribers"] + 1}");

            // The schema is read from the database itself: a manifest that names another one is not believed …
            await RefusedAsync(BackupCommand.Craft(archive, copy, manifest: m => m["schemaMigration"] = "20990101000000_Initial", signWith: masterKey),
                damaged, $"the database's schema is {manifest.SchemaMigration}, the manifest says 20990101000000_Initial");
            // … and a database of another build's schema is refused with the build that can restore it.
            var otherDatabase = WithSchema(BackupCommand.Entries(archive)[BackupArchive.DatabaseEntry], "20990101000000_Initial");
            var otherBuild = BackupCommand.Craft(archive, copy, e => e[BackupArchive.DatabaseEntry] = otherDatabase, m =>
            {
                m["schemaMigration"] = "20990101000000_Initial";
                m["files"]!.AsArray().Remove(DatabaseLine(m));
                BackupCommand.List(m, BackupArchive.DatabaseEntry, otherDatabase);
            }, masterKey);
            await RefusedAsync(otherBuild, "schema (20990101000000_Initial)", "was made by a different build", $"with the build that made it: app {manifest.AppVersion}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(target, recursive: true);
        }
    }

    [Fact]
    public async Task Copying_an_entry_stops_as_soon_as_it_holds_more_bytes_than_the_manifest_lists()
    {
        var endless = new ZeroStream(length: 64L << 20);
        var (bytes, _) = await BackupArchive.CopyHashedAsync(endless, Stream.Null, maxBytes: 1 << 20, CancellationToken.None);
        Assert.True(bytes > 1 << 20);
        Assert.True(endless.Position <= (1 << 20) + (1 << 16), $"read {endless.Position} bytes");
    }

    [Fact]
    public async Task A_restore_killed_between_putting_the_key_ring_and_the_database_in_place_does_not_block_the_next_restore()
    {
        var (archive, masterKey) = await BackupOfOneReaderAsync();
        var target = Directory.CreateTempSubdirectory("nm-restore-").FullName;
        try
        {
            // What the killed run left: its staging folder, its staged database beside the final one, and the key ring it
            // had already moved into place, still marked as its own.
            var staging = Directory.CreateDirectory(Path.Combine(target, $".restore-{Guid.NewGuid():N}")).FullName;
            await File.WriteAllTextAsync(Path.Combine(staging, "halb"), "halb");
            await File.WriteAllTextAsync(Path.Combine(target, $".newsletter.db.restore-{Guid.NewGuid():N}"), "halb");
            var keys = Directory.CreateDirectory(Path.Combine(target, "keys")).FullName;
            await File.WriteAllTextAsync(Path.Combine(keys, BackupRestorer.PendingMark), "");
            await File.WriteAllTextAsync(Path.Combine(keys, "key-halb.xml"), "<key/>");

            var restore = await BackupCommand.RunAsync(target, $"Data Source={Path.Combine(target, "newsletter.db")}", masterKey, ["restore", archive]);

            Assert.True(restore.ExitCode == 0, restore.Error);
            Assert.Equal(["keys", "newsletter.db"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var restoredKeys = Directory.GetFiles(keys).Select(Path.GetFileName).ToList();
            Assert.NotEmpty(restoredKeys);
            Assert.DoesNotContain("key-halb.xml", restoredKeys);
            Assert.DoesNotContain(BackupRestorer.PendingMark, restoredKeys);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(target, recursive: true);
        }
    }

    private async Task<(string Archive, string MasterKey)> BackupOfOneReaderAsync()
    {
        var archive = Path.Combine(_folder, "sicherung.zip");
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Address);
        await app.StopHostAsync();
        var backup = await BackupCommand.RunAsync(app, "backup", archive);
        Assert.True(backup.ExitCode == 0, backup.Error);
        return (archive, app.MasterKey);
    }

    private static JsonObject DatabaseLine(JsonObject manifest) =>
        manifest["files"]!.AsArray().Single(f => (string?)f!["path"] == BackupArchive.DatabaseEntry)!.AsObject();

    /// <summary>The database as another build would have made it: another migration in its history.</summary>
    private static byte[] WithSchema(byte[] database, string migration)
    {
        var file = Path.Combine(Path.GetTempPath(), $"nm-schema-{Guid.NewGuid():N}.db");
        try
        {
            File.WriteAllBytes(file, database);
            using (var connection = BackupArchive.Open(file))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "UPDATE __EFMigrationsHistory SET MigrationId = $id";
                command.Parameters.AddWithValue("$id", migration);
                command.ExecuteNonQuery();
            }
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Zeros up to <c>length</c>, without holding them: an entry that would fill the disk.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - Position);
            Array.Clear(buffer, offset, n);
            Position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The key neither as its base64 text nor as its 32 raw bytes, in the zip or in any unpacked entry.</summary>
    private static void AssertNotIn(string archive, string base64Key)
    {
        var text = Encoding.ASCII.GetBytes(base64Key);
        var raw = Convert.FromBase64String(base64Key);
        var entries = BackupCommand.Entries(archive);
        Assert.Contains(BackupArchive.DatabaseEntry, entries.Keys);
        foreach (var (name, content) in entries.Append(new("(zip)", File.ReadAllBytes(archive))))
        {
            Assert.True(content.AsSpan().IndexOf(text) < 0, $"{name} holds the master key as text");
            Assert.True(content.AsSpan().IndexOf(raw) < 0, $"{name} holds the master key's bytes");
        }
    }

    private static async Task<List<(string Name, string Xml)>> KeyRingAsync(AppFactory app) =>
        (await app.WithDbAsync(db => db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.FriendlyName).ToListAsync()))
            .Select(k => (k.FriendlyName!, k.Xml!)).ToList();

    [ProviderTheory, InlineData(DatabaseProvider.Postgres)]
    public async Task Backup_and_restore_on_PostgreSQL_are_refused_with_a_pointer_to_pg_dump_and_change_nothing(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        await app.NewsletterAsync();
        await app.StopHostAsync();
        var archive = Path.Combine(_folder, "sicherung.zip");

        var backup = await BackupCommand.RunAsync(app, "backup", archive);
        Assert.Equal(1, backup.ExitCode);
        Assert.Contains("Database:Provider is Postgres: nothing was written", backup.Error);
        Assert.Contains("pg_dump", backup.Error);
        Assert.False(File.Exists(archive));

        await File.WriteAllTextAsync(archive, "not restored");
        var restore = await BackupCommand.RunAsync(app, "restore", archive);
        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("nothing was restored", restore.Error);
        Assert.Contains("pg_restore", restore.Error);
        await using var db = TestDatabases.Open(app);
        Assert.Equal(0, await db.BackupRuns.CountAsync());
        Assert.Equal(1, await db.Newsletters.CountAsync());
    }

    private static async Task<Dictionary<MessageStatus, long>> CampaignStatusesAsync(string databaseFile, int campaignId)
    {
        await using var connection = BackupArchive.Open(databaseFile);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Status, COUNT(*) FROM OutboundMessages WHERE CampaignId = $id AND Kind = $kind GROUP BY Status";
        command.Parameters.AddWithValue("$id", campaignId);
        command.Parameters.AddWithValue("$kind", (int)MessageKind.Campaign);
        var statuses = new Dictionary<MessageStatus, long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) statuses[(MessageStatus)reader.GetInt32(0)] = reader.GetInt64(1);
        return statuses;
    }
}
