namespace NewsletterMigrator.Tests.Archive;

/// <summary>Issue 21: <c>update-newsletter --archive public|unlisted|off [--archive-indexing on|off]</c>, run as the real program.</summary>
public sealed class ArchiveCommandLineTests : IDisposable
{
    private readonly CliInstallation _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Update_newsletter_sets_the_archive_audited_and_refuses_a_bad_value_saving_nothing()
    {
        Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"])).ExitCode);

        var set = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--archive", "public", "--archive-indexing", "on"]);
        Assert.True(set.ExitCode == 0, set.Error);
        Assert.Contains("Archive: public at /n/eilmeldungen/archive, feed /n/eilmeldungen/archive/feed.xml; search engines: may index it.", set.Output);
        Assert.Equal(["2", "1"], await QueryAsync("SELECT Archive, ArchiveIndexable FROM Newsletters"));
        Assert.Equal(["command line", "newsletter eilmeldungen: archive public, indexing on"],
            await QueryAsync("SELECT UserName, Details FROM AuditEntries WHERE Action = 'archive-settings'"));

        // A bad value: a clear message, a non-zero exit, and nothing of the call saved (the new name neither).
        var refused = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--name", "Neuer Name", "--archive", "publik"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--archive: 'publik' is not one of public, unlisted, off; nothing was saved.", refused.Error);
        var indexing = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--archive", "off", "--archive-indexing", "yes"]);
        Assert.Equal(1, indexing.ExitCode);
        Assert.Contains("--archive-indexing: 'yes' is not on or off; nothing was saved.", indexing.Error);
        Assert.Equal(["Tagblatt", "2", "1"], await QueryAsync("SELECT Name, Archive, ArchiveIndexable FROM Newsletters"));
        Assert.Equal(["1"], await QueryAsync("SELECT COUNT(*) FROM AuditEntries WHERE Action = 'archive-settings'"));

        var unlisted = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--archive", "unlisted"]);
        Assert.True(unlisted.ExitCode == 0, unlisted.Error);
        Assert.Contains("Archive: unlisted", unlisted.Output);
        Assert.Equal(["1", "1"], await QueryAsync("SELECT Archive, ArchiveIndexable FROM Newsletters"));
        Assert.Contains("[--archive public|unlisted|off] [--archive-indexing on|off]", (await RunAsync(["update-newsletter"])).Error);
    }

    private Task<string[]> QueryAsync(string sql) => _cli.RowAsync(sql);

    private Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args) => _cli.RunAsync(args);
}
