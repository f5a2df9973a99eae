using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Feeds;
using static NewsletterMigrator.Tests.Feeds.FeedTestData;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Breaking news from the newsroom's feed waits as a draft (issue 19): the editor follows the link in the mail that says
/// so, reads the draft and sends it with one click; the reader gets it.
/// </summary>
public sealed class FeedBrowserTests() : BrowserTest(FastPolling)
{
    private const string AdminEmail = "chefin@example.test";
    private const string AdminPassword = "Redaktionsschluss um Mitternacht";
    private const string Reader = "leserin@example.test";

    [BrowserFact]
    public async Task An_editor_approves_a_breaking_news_draft_from_the_feed_with_one_click()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss(new Story("b-1", "Stadtrat tagt am Montag")));
        var newsletter = await SeedAsync();
        var feedId = await App.AddFeedAsync(newsletter, server.Url("/rss"), new FeedSettings("", FeedMode.Breaking, AutoSend: false, Category: null));
        await App.WaitForPollAsync(feedId, f => f.LastSuccessAtUtc is not null);
        server.Serve("/rss", Rss(new Story("b-2", "Eilmeldung: Brücke nach Unfall gesperrt", Summary: "Die Polizei leitet den Verkehr um."),
            new Story("b-1", "Stadtrat tagt am Montag")));

        var note = await App.Smtp.WaitForAsync(AdminEmail, "Wartet auf Freigabe");
        var link = Regex.Match(note.TextBody ?? "", @"https?://\S+/admin/campaigns/\d+/edit/\d+").Value;
        Assert.NotEmpty(link);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl, "de-DE");
        await page.SetViewportSizeAsync(1280, 900);
        await page.GotoAsync(new Uri(link).PathAndQuery); // signing in first, then on to the draft
        await page.GetByLabel("E-Mail-Adresse").FillAsync(AdminEmail);
        await page.GetByLabel("Passwort", new() { Exact = true }).FillAsync(AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Anmelden" }).ClickAsync();

        await Assertions.Expect(page.Locator("#feed-draft")).ToContainTextAsync("Eilmeldung aus dem Feed");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Eilmeldung: Brücke nach Unfall gesperrt");
        await Assertions.Expect(page.FrameLocator("iframe.campaign-preview-frame >> nth=0").Locator("body")).ToContainTextAsync("Die Polizei leitet den Verkehr um.");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("feed-draft-waiting"), FullPage = true });
        await page.GetByRole(AriaRole.Button, new() { Name = "Freigeben und jetzt an 1 Abonnenten senden" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/report/"));

        var mail = await App.Smtp.WaitForAsync(Reader, "Eilmeldung: Brücke nach Unfall gesperrt");
        Assert.Contains("Die Polizei leitet den Verkehr um.", mail.HtmlBody);
        Assert.Contains("https://www.tagblatt.example/artikel/b-2", mail.HtmlBody);
    }

    /// <summary>The newsletter, its admin, and one confirmed reader, through the app's own services.</summary>
    private async Task<Newsletter> SeedAsync()
    {
        await App.NewsletterAsync();
        await using var scope = App.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        Assert.True((await services.GetRequiredService<StaffAccounts>().CreateAsync(AdminEmail, AdminPassword, Roles.Admin, "test")).Succeeded);
        var db = services.GetRequiredService<AppDbContext>();
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Slug == ReaderSeed.Slug);
        await App.SignedUpReaderAsync(Reader);
        var subscriber = await db.Subscribers.AsNoTracking().SingleAsync(s => s.Email == Reader);
        var token = services.GetRequiredService<TokenService>().Create(TokenPurpose.Confirm, subscriber.Id, subscriber.ConfirmGeneration);
        Assert.Equal(ConfirmState.Ready, await services.GetRequiredService<ConfirmationService>().ConfirmAsync(token, "127.0.0.1", "test"));
        return newsletter;
    }
}
