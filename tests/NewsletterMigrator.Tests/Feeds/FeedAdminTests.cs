using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.Feeds.FeedTestData;

namespace NewsletterMigrator.Tests.Feeds;

/// <summary>The editor's feed pages: add with clear refusals, see the health, preview the mail the feed would make, remove.</summary>
public sealed class FeedAdminTests
{
    [Fact]
    public async Task An_editor_adds_previews_and_removes_a_feed_and_a_wrong_address_changes_nothing()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(new Story("x-1", "Eilmeldung: Brücke gesperrt", "Eilmeldung"), new Story("x-2", "Kultur: Theater-Premiere", "Kultur")));
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var add = $"/admin/feeds/{newsletter.Id}/edit";

        var refused = await staff.PostFormAsync(add + "?handler=Save", await staff.GetStringAsync(add), new() { ["Input.Url"] = "feed.example/rss", ["Input.Mode"] = "Breaking", ["Input.MaxPerDay"] = "5" });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Bitte eine vollständige Adresse mit http:// oder https:// angeben.", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal(0, await app.WithDbAsync(db => db.Feeds.CountAsync()));

        var saved = await staff.PostFormAsync(add + "?handler=Save", await staff.GetStringAsync(add), new()
        {
            ["Input.Url"] = server.Url("/rss").ToString(), ["Input.Mode"] = "Breaking", ["Input.Category"] = "Eilmeldung",
            ["Input.AutoSend"] = "true", ["Input.MaxPerDay"] = "3", ["Input.Enabled"] = "true",
        });
        Assert.Contains("Gespeichert.", await saved.Content.ReadAsStringAsync()); // on the feed list it redirected to
        var feed = await app.WithDbAsync(db => db.Feeds.AsNoTracking().SingleAsync());
        Assert.Equal((FeedMode.Breaking, true, "Eilmeldung", 3), (feed.Mode, feed.AutoSend, feed.Category, feed.MaxPerDay));
        Assert.Contains("feed-add", await app.WithDbAsync(db => db.AuditEntries.Select(a => a.Action).ToListAsync()));

        var list = await staff.GetStringAsync($"/admin/feeds/{newsletter.Id}");
        Assert.Contains($"data-feed=\"{feed.Id}\"", list);

        var preview = WebUtility.HtmlDecode(await staff.GetStringAsync($"/admin/feeds/{newsletter.Id}/preview/{feed.Id}"));
        Assert.Contains("2 Beiträge im Feed", preview);
        Assert.Contains("Kultur: Theater-Premiere", preview);
        Assert.Contains("passt nicht zur Regel des Feeds", preview);
        var mail = await staff.GetAsync($"/admin/feeds/{newsletter.Id}/preview-mail/{feed.Id}");
        var mailHtml = await mail.Content.ReadAsStringAsync();
        Assert.Contains("Weiterlesen auf www.tagblatt.example", WebUtility.HtmlDecode(mailHtml));
        Assert.Contains("Newsletter abbestellen", mailHtml);
        Assert.Contains("default-src 'none'", mail.Headers.GetValues("Content-Security-Policy").Single());
        // A preview changes nothing: no items stored, no campaign.
        Assert.Equal(0, await app.WithDbAsync(db => db.Campaigns.CountAsync()));

        var edit = $"/admin/feeds/{newsletter.Id}/edit/{feed.Id}";
        var removed = await staff.PostFormAsync(edit + "?handler=Delete", await staff.GetStringAsync(edit), []);
        Assert.Contains("Der Feed wurde entfernt.", await removed.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.WithDbAsync(db => db.Feeds.CountAsync()));
    }
}
