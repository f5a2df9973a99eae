using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;
using static NewsletterMigrator.Tests.Feeds.FeedTestData;

namespace NewsletterMigrator.Tests.Feeds;

/// <summary>The newsroom's feed becomes mail: breaking news at once, each item once, with the worker polling a real HTTP server.</summary>
public sealed class FeedToMailTests
{
    private static readonly Story Old1 = new("cms-1001", "Stadtrat tagt am Montag", "Lokales");
    private static readonly Story Old2 = new("cms-1002", "Wetter: sonnig und warm", "Wetter");
    private static readonly Story Flood = new("cms-1003", "Eilmeldung: Hochwasser – Altstadt wird geräumt", "Eilmeldung",
        "Die Feuerwehr räumt die *Altstadt* [sofort](javascript:alert(1)).", "https://img.tagblatt.example/hochwasser.jpg");
    private static readonly Story Fire = new("cms-1004", "Großbrand im Hafen", "Eilmeldung");
    private static readonly Story Match = new("cms-1005", "Derby endet 2:2", "Sport");

    [ProviderTheory, DatabaseProviders]
    public async Task What_a_feed_holds_when_added_is_never_sent_and_a_new_item_goes_out_once_across_restarts_and_edits(DatabaseProvider database)
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old2, Old1));
        var readers = SendingTestData.Addresses(3);
        await using var first = new AppFactory(settings: FastPolling, provider: database);
        var newsletter = await first.NewsletterAsync();
        await first.ConfirmedReadersAsync(newsletter, readers);
        var feedId = await first.AddFeedAsync(newsletter, server.Url("/rss"));
        await first.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);
        Assert.Empty(await first.FeedCampaignsAsync(feedId));
        Assert.Equal(2, await first.WithDbAsync(db => db.FeedItems.CountAsync(i => i.FeedId == feedId && i.State == FeedItemState.Baseline)));

        server.Serve("/rss", Rss(Flood, Old2, Old1));
        var campaign = Assert.Single(await first.WaitForFeedCampaignsAsync(feedId, 1));
        Assert.True(campaign.Breaking);
        Assert.Equal(Flood.Title, campaign.Subject);
        await first.WaitForCampaignAsync(campaign.Id, CampaignStatus.Sent);
        var received = first.Smtp.Received(Flood.Title);
        Assert.Equal(readers.Order(), received.Keys.Order());
        var mail = received.Values.First().Single();
        Assert.Contains("https://www.tagblatt.example/artikel/cms-1003", mail.HtmlBody);
        Assert.Contains("<img src=\"https://img.tagblatt.example/hochwasser.jpg\" alt=\"Eilmeldung: Hochwasser", mail.HtmlBody);
        // The feed's text stays text: no emphasis from its asterisks, no javascript: link.
        Assert.Contains("*Altstadt*", mail.HtmlBody);
        Assert.Contains("[sofort](javascript:alert(1))", mail.HtmlBody);
        Assert.DoesNotContain("href=\"javascript:", mail.HtmlBody);
        Assert.Contains("Newsletter abbestellen", mail.HtmlBody); // the same layout as every campaign (C22)
        Assert.NotNull(mail.Headers["List-Unsubscribe-Post"]);

        // The CMS corrects the headline (same guid) while the app restarts: nothing goes out again.
        await first.StopHostAsync();
        server.Serve("/rss", Rss(Flood with { Title = "Hochwasser: Altstadt geräumt (aktualisiert)" }, Old2, Old1), etag: "\"v3\"");
        var requests = server.RequestCount("/rss");
        await using var restarted = new AppFactory(settings: FastPolling, reuse: first);
        await restarted.WaitForRequestsAsync(server, "/rss", feedId, requests + 2);
        Assert.Single(await restarted.FeedCampaignsAsync(feedId));
        Assert.Equal(readers.Length, first.Smtp.Messages.Count(m => m.Subject == Flood.Title));
        // The second poll after the restart asked conditionally with what the first answered.
        Assert.Equal("\"v3\"", server.LastRequest("/rss").IfNoneMatch);
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Two_instances_polling_one_feed_send_each_item_once(DatabaseProvider database)
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old1));
        var readers = SendingTestData.Addresses(2);
        await using var first = new AppFactory(settings: FastPolling, provider: database);
        var newsletter = await first.NewsletterAsync();
        await first.ConfirmedReadersAsync(newsletter, readers);
        await using var second = new AppFactory(settings: FastPolling, reuse: first, ownDataFolder: true);
        _ = second.Services; // both instances' workers poll
        var feedId = await first.AddFeedAsync(newsletter, server.Url("/rss"));
        await first.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);

        server.Serve("/rss", Rss(Fire, Flood, Old1));
        var campaigns = await first.WaitForFeedCampaignsAsync(feedId, 2);
        foreach (var c in campaigns) await first.WaitForCampaignAsync(c.Id, CampaignStatus.Sent);
        var polls = server.RequestCount("/rss");
        await first.WaitForRequestsAsync(server, "/rss", feedId, polls + 4);

        Assert.Equal([Flood.Title, Fire.Title], (await first.FeedCampaignsAsync(feedId)).Select(c => c.Subject)); // oldest first, once each
        foreach (var story in new[] { Flood, Fire })
            Assert.All(first.Smtp.Received(story.Title).Values, mails => Assert.Single(mails));
    }

    [Fact]
    public async Task Only_items_of_the_chosen_category_become_breaking_news()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old1));
        await using var app = new AppFactory(settings: FastPolling);
        var newsletter = await app.NewsletterAsync();
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss"), new FeedSettings("", FeedMode.Breaking, AutoSend: true, Category: "eilmeldung"));
        await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);

        server.Serve("/rss", Rss(Match, Fire, Old1));
        var campaign = Assert.Single(await app.WaitForFeedCampaignsAsync(feedId, 1));
        Assert.Equal(Fire.Title, campaign.Subject);
        await app.WaitForRequestsAsync(server, "/rss", feedId, server.RequestCount("/rss") + 2);
        Assert.Single(await app.FeedCampaignsAsync(feedId));
        Assert.Equal(FeedItemState.Skipped, await app.WithDbAsync(db => db.FeedItems.Where(i => i.Title == Match.Title).Select(i => i.State).SingleAsync()));
    }

    [Fact]
    public async Task Beyond_the_daily_maximum_breaking_news_waits_for_approval_and_the_editors_are_told()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old1));
        await using var app = new AppFactory(settings: FastPolling);
        var newsletter = await app.NewsletterAsync();
        await app.StaffAsync("chefin@example.test", "correct horse battery", "Admin");
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss"), new FeedSettings("", FeedMode.Breaking, AutoSend: true, Category: null, MaxPerDay: 1));
        await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);

        server.Serve("/rss", Rss(Fire, Flood, Old1));
        var campaigns = await app.WaitForFeedCampaignsAsync(feedId, 2);
        Assert.Equal(CampaignStatus.Draft, campaigns[1].Status); // the second of the day
        await app.WaitForCampaignAsync(campaigns[0].Id, CampaignStatus.Sent);
        var note = await app.Smtp.WaitForAsync("chefin@example.test", "Wartet auf Freigabe");
        Assert.Contains(Fire.Title, note.Subject);
        Assert.Contains($"/admin/campaigns/{newsletter.Id}/edit/{campaigns[1].Id}", note.HtmlBody);
        Assert.Empty(app.Smtp.Received(Fire.Title));
    }

    [Fact]
    public async Task A_draft_from_a_feed_goes_out_with_one_click_and_an_editors_own_campaign_cannot_be_approved_that_way()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old1));
        await using var app = new AppFactory(settings: FastPolling);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test", "leser@example.test");
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss"), new FeedSettings("", FeedMode.Breaking, AutoSend: false, Category: null));
        await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);
        server.Serve("/rss", Rss(Fire, Old1));
        var draft = Assert.Single(await app.WaitForFeedCampaignsAsync(feedId, 1));
        Assert.Equal(CampaignStatus.Draft, draft.Status);
        await app.Smtp.WaitForAsync("redaktion@example.test", "Wartet auf Freigabe");

        var editPage = $"/admin/campaigns/{newsletter.Id}/edit/{draft.Id}";
        Assert.Contains("id=\"feed-draft\"", await staff.GetStringAsync(editPage));
        Assert.Contains("Wartet auf Freigabe", await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}"));
        var response = await staff.PostFormAsync(editPage + "?handler=Approve", await staff.GetStringAsync(editPage), []);
        Assert.Contains("Versand gestartet: 2 Empfänger.", await response.Content.ReadAsStringAsync()); // on the report it redirected to
        await app.WaitForCampaignAsync(draft.Id, CampaignStatus.Sent);
        Assert.Equal(2, app.Smtp.Received(Fire.Title).Count);
        Assert.Contains(await app.WithDbAsync(db => db.AuditEntries.Select(a => a.Action).ToListAsync()), a => a == "approve");

        var own = await app.CampaignAsync(newsletter, "Von Hand geschrieben", start: false);
        var ownPage = $"/admin/campaigns/{newsletter.Id}/edit/{own}";
        var refused = await staff.PostFormAsync(ownPage + "?handler=Approve", await staff.GetStringAsync(ownPage), []);
        Assert.Contains("Mit einem Klick freigeben lassen sich nur Entwürfe aus einem Feed", System.Net.WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal(CampaignStatus.Draft, (await app.CampaignRowAsync(own)).Status);
    }

    [Fact]
    public async Task Breaking_news_overtakes_an_issue_that_is_sending()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old1));
        // Small lease batches at a slow rate: the worker goes back to the queue every fifth of a second.
        await using var app = new AppFactory(settings: new(FastPolling) { ["Smtp:MessagesPerSecond"] = "25", ["Sending:BatchSize"] = "5" });
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(60);
        await app.ConfirmedReadersAsync(newsletter, readers);
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss"));
        await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);

        var digest = await app.CampaignAsync(newsletter, "Der Wochenüberblick");
        await SendingEngineTests.WaitUntilAsync(() => app.Smtp.Messages.Count(m => m.Subject == "Der Wochenüberblick") >= 5);
        server.Serve("/rss", Rss(Fire, Old1));
        var breaking = Assert.Single(await app.WaitForFeedCampaignsAsync(feedId, 1));
        await app.WaitForCampaignAsync(breaking.Id, CampaignStatus.Sent);
        await app.WaitForCampaignAsync(digest, CampaignStatus.Sent);

        var order = app.Smtp.Messages.Select(m => m.Subject).ToList();
        var lastBreaking = order.LastIndexOf(Fire.Title);
        var lastIssue = order.LastIndexOf("Der Wochenüberblick");
        Assert.True(lastBreaking < lastIssue, $"the breaking news finished at mail {lastBreaking}, the issue at {lastIssue}");
        Assert.Equal(readers.Length, app.Smtp.Received(Fire.Title).Count);
    }

    [Fact]
    public async Task A_failing_feed_backs_off_shows_on_the_dashboard_and_recovers()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Fail("/rss", 503);
        await using var app = new AppFactory(settings: FastPolling);
        var newsletter = await app.NewsletterAsync();
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var feedId = await app.AddFeedAsync(newsletter, server.Url("/rss?secret=cms-token-123"));
        var failing = await app.WaitForPollAsync(feedId, f => f.ConsecutiveFailures >= 2);
        Assert.True(failing.NextPollAtUtc - failing.LastPolledAtUtc!.Value >= TimeSpan.FromSeconds(2), "the second failure waits longer than the poll interval");
        Assert.Contains("503", failing.LastError);

        var dashboard = await staff.GetStringAsync("/admin");
        Assert.Contains("attention-feed-failing", dashboard);
        Assert.DoesNotContain("cms-token-123", dashboard); // a CMS secret in the query is not shown
        Assert.Contains("503", await staff.GetStringAsync($"/admin/feeds/{newsletter.Id}"));
        Assert.DoesNotContain(await app.WithDbAsync(db => db.AuditEntries.Select(a => a.Details).ToListAsync()), d => d.Contains("cms-token-123"));

        server.Serve("/rss", Rss(Old1));
        var healthy = await app.WaitForPollAsync(feedId, f => f.ConsecutiveFailures == 0 && f.LastSuccessAtUtc is not null, TimeSpan.FromSeconds(60));
        Assert.Null(healthy.LastError);
        Assert.DoesNotContain("attention-feed-failing", await staff.GetStringAsync("/admin"));
    }

    [Fact]
    public async Task Breaking_news_of_a_newsletter_that_is_not_open_yet_is_not_sent_C38()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(Old1));
        await using var app = new AppFactory(settings: FastPolling);
        Newsletter bare;
        await using (var scope = app.Services.CreateAsyncScope())
            bare = await scope.ServiceProvider.GetRequiredService<NewsletterMigrator.Newsletters.NewsletterService>().CreateAsync(
                new Newsletter { Slug = "ohne-impressum", Name = "Ohne Impressum", SenderName = "Tagblatt", SenderAddress = "news@tagblatt.example.test" }, "test");
        var feedId = await app.AddFeedAsync(bare, server.Url("/rss"));
        await app.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);

        server.Serve("/rss", Rss(Fire, Old1));
        await app.WaitForRequestsAsync(server, "/rss", feedId, server.RequestCount("/rss") + 2);
        Assert.Empty(await app.FeedCampaignsAsync(feedId));
        Assert.Equal(FeedItemState.Skipped, await app.WithDbAsync(db => db.FeedItems.Where(i => i.Title == Fire.Title).Select(i => i.State).SingleAsync()));
    }
}
