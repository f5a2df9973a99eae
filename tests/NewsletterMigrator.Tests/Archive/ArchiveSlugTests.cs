using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests.Archive;

/// <summary>Issue 21: an issue's archive address is fixed when its sending starts, readable, unique in its newsletter, and never changes.</summary>
public sealed class ArchiveSlugTests
{
    [Fact]
    public void The_address_is_the_berlin_date_of_the_start_and_the_subject_in_ascii_with_umlauts_transliterated()
    {
        // 23:30 UTC on 3 December is already 4 December in Berlin.
        var start = new DateTime(2026, 12, 3, 23, 30, 0, DateTimeKind.Utc);
        Assert.Equal("2026-12-04-ueberschwemmung-in-koeln-strassen-gesperrt-cafe-oeffnet",
            ArchiveSlugs.Stem("Überschwemmung in Köln: Straßen gesperrt – Café öffnet!", start));
        Assert.Equal("2026-12-04-aerger-ueber-100-baeume", ArchiveSlugs.Stem("  ÄRGER über 100 Bäume  ", start));
        Assert.Equal("2026-12-04", ArchiveSlugs.Stem("🔥🔥", start));

        var longest = ArchiveSlugs.Stem("Eilmeldung: " + string.Join(' ', Enumerable.Repeat("Verkehrsbehinderungen", 10)), start);
        Assert.True(longest.Length <= ArchiveSlugs.MaxStemLength, longest);
        Assert.Matches("^2026-12-04-eilmeldung-verkehrsbehinderungen(-verkehrsbehinderungen)*$", longest);
    }

    [Fact]
    public async Task A_second_issue_with_the_same_subject_on_the_same_day_gets_2_and_no_address_changes_with_the_settings()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Off);
        var (first, _) = await app.SentIssueAsync(newsletter, "Wetterwarnung", "Sturm.");
        var (second, _) = await app.SentIssueAsync(newsletter, "Wetterwarnung", "Noch mehr Sturm.");
        var stem = ArchiveSlugs.Stem("Wetterwarnung", first.StartedAtUtc!.Value);
        Assert.Equal(stem, first.ArchiveSlug);
        Assert.Equal(stem + "-2", second.ArchiveSlug);

        var reader = app.ReaderClient();
        foreach (var mode in new[] { ArchiveMode.Public, ArchiveMode.Unlisted, ArchiveMode.Off, ArchiveMode.Public })
            await app.SetArchiveAsync(newsletter, mode, indexable: mode == ArchiveMode.Public);
        Assert.Equal(first.ArchiveSlug, (await app.CampaignRowAsync(first.Id)).ArchiveSlug);
        Assert.Equal(second.ArchiveSlug, (await app.CampaignRowAsync(second.Id)).ArchiveSlug);
        Assert.Contains("Noch mehr Sturm.", await reader.GetStringAsync(ArchiveTestData.IssuePath(newsletter, second)));
        Assert.Contains("Sturm.", await reader.GetStringAsync(ArchiveTestData.IssuePath(newsletter, first)));

        // Another newsletter may use the same address for its own issue.
        var other = await app.NewsletterAsync("polizeimeldungen");
        var otherId = await app.CampaignAsync(other, "Wetterwarnung");
        Assert.Equal(stem, (await app.CampaignRowAsync(otherId)).ArchiveSlug);
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Issues_with_one_subject_started_at_the_same_moment_each_get_their_own_address(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var ids = new List<int>();
        for (var i = 0; i < 6; i++) ids.Add(await app.CampaignAsync(newsletter, "Eilmeldung: Großbrand", start: false));

        // Each start in its own scope, as editors, the API and the scheduler of several instances would: all of them read
        // the same address as free, and the unique index decides.
        using var go = new ManualResetEventSlim();
        var starts = ids.Select(id => Task.Run(async () =>
        {
            go.Wait();
            await using var scope = app.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<CampaignService>().StartAsync(newsletter.Id, id, "redaktion@example.test");
        })).ToList();
        go.Set();
        await Task.WhenAll(starts);

        var slugs = new List<string>();
        foreach (var id in ids) slugs.Add((await app.CampaignRowAsync(id)).ArchiveSlug!);
        var stem = ArchiveSlugs.Stem("Eilmeldung: Großbrand", (await app.CampaignRowAsync(ids[0])).StartedAtUtc!.Value);
        Assert.Equal(new[] { stem }.Concat(Enumerable.Range(2, 5).Select(n => $"{stem}-{n}")).Order(), slugs.Order());
    }
}
