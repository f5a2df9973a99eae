using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;
using static NewsletterMigrator.Tests.Feeds.FeedTestData;

namespace NewsletterMigrator.Tests.Feeds;

/// <summary>The daily round-up: the items since the last digest, at a set Berlin time, nothing when there is nothing.</summary>
public sealed class FeedDigestTests
{
    private static readonly Story Old = new("a-1", "Gestern: Stadtfest eröffnet");
    private static readonly Story Council = new("a-2", "Stadtrat beschließt neuen Radweg", Summary: "Der Radweg entlang der Hauptstraße kommt 2027.",
        Image: "https://img.tagblatt.example/radweg.jpg");
    private static readonly Story Weather = new("a-3", "Unwetterwarnung für den Abend");

    [ProviderTheory, DatabaseProviders]
    public async Task A_digest_sends_the_items_since_the_last_one_once_and_nothing_when_there_are_none(DatabaseProvider database)
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old));
        var readers = SendingTestData.Addresses(2);
        await using var app = new AppFactory(settings: FastPolling, provider: database);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, readers);
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss"),
            new FeedSettings("", FeedMode.Digest, AutoSend: true, Category: null, DigestMinuteOfDay: 7 * 60 + 30, DigestWeekdays: DigestSchedule.EveryDay));
        var feed = await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);
        Assert.Equal(new TimeOnly(7, 30), TimeOnly.FromDateTime(Berlin.ToLocal(feed.NextDigestAtUtc!.Value)));

        server.Serve("/rss", Rss(Weather, Council, Old));
        await SendingEngineTests.WaitUntilAsync(() => app.WithDbAsync(db => db.FeedItems.CountAsync(i => i.FeedId == feedId && i.State == FeedItemState.Pending)).Result == 2);
        Assert.Empty(await app.FeedCampaignsAsync(feedId)); // digest items wait for the set time

        await MakeDueAsync(app, feedId); // 07:30 has come
        var digest = Assert.Single(await app.WaitForFeedCampaignsAsync(feedId, 1));
        Assert.False(digest.Breaking);
        Assert.StartsWith("Tagblatt Eilmeldungen: Der Überblick vom ", digest.Subject);
        await app.WaitForCampaignAsync(digest.Id, CampaignStatus.Sent);
        var mail = app.Smtp.Received(digest.Subject).Values.First().Single();
        Assert.Contains(Council.Title, mail.HtmlBody);
        Assert.Contains(Weather.Title, mail.HtmlBody);
        Assert.Contains("https://www.tagblatt.example/artikel/a-2", mail.HtmlBody);
        Assert.Contains("Der Radweg entlang der Hauptstraße kommt 2027.", mail.HtmlBody);
        Assert.Contains("src=\"https://img.tagblatt.example/radweg.jpg\"", mail.HtmlBody);
        Assert.DoesNotContain(Old.Title, mail.HtmlBody); // the baseline is not news
        Assert.DoesNotContain("utm_", mail.HtmlBody); // no tracking
        Assert.Equal(readers.Length, app.Smtp.Received(digest.Subject).Count);
        var next = (await app.FeedRowAsync(feedId)).NextDigestAtUtc!.Value;
        Assert.True(next > DateTime.UtcNow && next < DateTime.UtcNow.AddDays(1).AddMinutes(1));

        // The next slot with nothing new: no mail, and the one after is set.
        await MakeDueAsync(app, feedId);
        await SendingEngineTests.WaitUntilAsync(() => app.FeedRowAsync(feedId).Result.NextDigestAtUtc > DateTime.UtcNow);
        Assert.Single(await app.FeedCampaignsAsync(feedId));
    }

    [Fact]
    public async Task A_digest_fetches_the_feed_at_its_time_so_it_holds_what_was_published_since_the_last_regular_poll()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old));
        // Polled once an hour: only the digest's own fetch can see the story published after the first poll.
        await using var app = new AppFactory(settings: new() { ["Feeds:PollInterval"] = "01:00:00" });
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss"),
            new FeedSettings("", FeedMode.Digest, AutoSend: true, Category: null, DigestWeekdays: DigestSchedule.EveryDay));
        await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);

        server.Serve("/rss", Rss(Council, Old));
        await MakeDueAsync(app, feedId);
        // The time comes between a round's fetch and its digests: that round's digest step must wait for the fetch,
        // not send nothing and move on to tomorrow.
        await using (var scope = app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<FeedDigests>().MakeDueAsync(CancellationToken.None);
        var digest = Assert.Single(await app.WaitForFeedCampaignsAsync(feedId, 1));
        Assert.Contains(Council.Title, digest.BodyMarkdown);
        Assert.Equal(2, server.RequestCount("/rss"));
    }

    /// <summary>The feed's set time arrives now, after its last poll (the schedule itself is <see cref="DigestScheduleTests"/>' subject).</summary>
    private static Task MakeDueAsync(AppFactory app, int feedId) => app.WithDbAsync(db =>
        db.Feeds.Where(f => f.Id == feedId).ExecuteUpdateAsync(u => u.SetProperty(f => f.NextDigestAtUtc, DateTime.UtcNow)));
}
