using System.Net;
using System.ServiceModel.Syndication;
using System.Xml;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Archive;

/// <summary>Issue 21: an admin withdraws an issue from the archive and restores it; the archive's settings on the settings page.</summary>
public sealed class ArchiveWithdrawTests
{

    [Fact]
    public async Task An_admin_withdraws_an_issue_from_its_report_it_answers_410_and_leaves_list_and_feed_and_a_restore_brings_it_back()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var (campaign, _) = await app.SentIssueAsync(newsletter);
        var issue = ArchiveTestData.IssuePath(newsletter, campaign);
        var reader = app.ReaderClient();
        var admin = await app.SignedInAsync(Roles.Admin, "redaktion@example.test");
        var report = $"/admin/campaigns/{newsletter.Id}/report/{campaign.Id}";

        var page = await admin.GetStringAsync(report);
        Assert.Contains($"href=\"http://localhost{issue}\"", page);
        var withdraw = await admin.PostFormAsync($"/admin/campaigns/{newsletter.Id}/archive/{campaign.Id}?handler=Withdraw", page, []);
        Assert.Equal(HttpStatusCode.Redirect, withdraw.StatusCode);
        Assert.Contains("Die Ausgabe ist aus dem Archiv genommen.", await admin.GetStringAsync(withdraw.Headers.Location!.OriginalString));

        var gone = await reader.GetAsync(issue);
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        var goneHtml = await gone.Content.ReadAsStringAsync();
        Assert.Contains("Diese Ausgabe ist nicht mehr im Archiv", goneHtml);
        Assert.DoesNotContain("Der Pegel steigt", goneHtml);
        Assert.Contains("href=\"/n/eilmeldungen/impressum\"", goneHtml); // still a reader page with its footer (C39)
        Assert.Equal("noindex", gone.Headers.GetValues("X-Robots-Tag").Single());
        Assert.DoesNotContain(issue, await reader.GetStringAsync("/n/eilmeldungen/archive"));
        Assert.Empty(await FeedItemsAsync(reader));
        var withdrawn = await app.CampaignRowAsync(campaign.Id);
        Assert.Equal("redaktion@example.test", withdrawn.ArchiveWithdrawnBy);
        Assert.Equal(campaign.ArchiveSlug, withdrawn.ArchiveSlug);

        page = await admin.GetStringAsync(report);
        Assert.Contains("Aus dem Archiv genommen am", page);
        var restore = await admin.PostFormAsync($"/admin/campaigns/{newsletter.Id}/archive/{campaign.Id}?handler=Restore", page, []);
        Assert.Equal(HttpStatusCode.Redirect, restore.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(issue)).StatusCode);
        Assert.Contains(issue, await reader.GetStringAsync("/n/eilmeldungen/archive"));
        Assert.Equal([campaign.Subject], (await FeedItemsAsync(reader)).Select(i => i.Title.Text));

        var audit = await app.WithDbAsync(db => db.AuditEntries.Where(a => a.Action.StartsWith("archive-")).OrderBy(a => a.Id).ToListAsync());
        Assert.Equal(["archive-settings", "archive-withdraw", "archive-restore"], audit.Select(a => a.Action));
        Assert.All(audit.Skip(1), a => Assert.Equal("redaktion@example.test", a.UserName));
        Assert.Contains($"campaign {campaign.Id}", audit[1].Details);
    }

    [Fact]
    public async Task An_editor_can_neither_withdraw_an_issue_nor_see_the_button()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var (campaign, _) = await app.SentIssueAsync(newsletter);
        var editor = await app.SignedInAsync(Roles.Editor, "volontaer@example.test");

        var page = await editor.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{campaign.Id}");
        Assert.Contains("Im Archiv unter", page);
        Assert.DoesNotContain("handler=Withdraw", page);
        var refused = await editor.PostFormAsync($"/admin/campaigns/{newsletter.Id}/archive/{campaign.Id}?handler=Withdraw", page, []);
        Assert.Contains("/account/denied", refused.Headers.Location?.OriginalString ?? "");
        Assert.Null((await app.CampaignRowAsync(campaign.Id)).ArchiveWithdrawnAtUtc);
        Assert.Equal(HttpStatusCode.OK, (await app.ReaderClient().GetAsync(ArchiveTestData.IssuePath(newsletter, campaign))).StatusCode);
    }

    [Fact]
    public async Task The_settings_page_saves_the_archive_mode_and_indexing_audited_and_refuses_an_unknown_mode_saving_nothing()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var admin = await app.SignedInAsync(Roles.Admin, "redaktion@example.test");
        var edit = $"/admin/newsletters/edit/{newsletter.Id}";
        var action = $"/admin/newsletters/{newsletter.Id}/archive";

        var page = await admin.GetStringAsync(edit);
        Assert.Contains("id=\"archive\"", page);
        Assert.Matches("id=\"archive-mode-Off\" value=\"Off\" checked", page);
        Assert.Contains("Nicht gelistet", page);
        Assert.Contains("keine Übersicht und keinen RSS-Feed", page);
        var saved = await admin.PostFormAsync(action, page, new() { ["mode"] = "Public", ["indexable"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        page = await admin.GetStringAsync(saved.Headers.Location!.OriginalString);
        Assert.Contains("Die Archiv-Einstellungen sind gespeichert.", page);
        Assert.Contains("href=\"http://localhost/n/eilmeldungen/archive\"", page);
        Assert.Equal((ArchiveMode.Public, true), await app.WithDbAsync(db => db.Newsletters.Where(n => n.Id == newsletter.Id).Select(n => ValueTuple.Create(n.Archive, n.ArchiveIndexable)).SingleAsync()));
        var audit = await app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "archive-settings"));
        Assert.Equal("newsletter eilmeldungen: archive public, indexing on", audit.Details);

        foreach (var bad in new[] { "Oeffentlich", "7", "" })
        {
            var refused = await admin.PostFormAsync(action, page, new() { ["mode"] = bad });
            Assert.Contains("Bitte wählen Sie Aus, Nicht gelistet oder Öffentlich. Nichts wurde gespeichert.", await admin.GetStringAsync(refused.Headers.Location!.OriginalString));
        }
        Assert.Equal((ArchiveMode.Public, true), await app.WithDbAsync(db => db.Newsletters.Where(n => n.Id == newsletter.Id).Select(n => ValueTuple.Create(n.Archive, n.ArchiveIndexable)).SingleAsync()));
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == "archive-settings")));
    }

    private static async Task<IReadOnlyList<SyndicationItem>> FeedItemsAsync(HttpClient reader) =>
        SyndicationFeed.Load(XmlReader.Create(new StringReader(await reader.GetStringAsync("/n/eilmeldungen/archive/feed.xml")))).Items.ToList();
}
