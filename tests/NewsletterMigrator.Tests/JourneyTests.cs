using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The whole journey through the real UI over HTTP: an editor imports, a reader signs up and confirms,
/// the editor sends a newsletter, the reader leaves with one click. Mail travels over real SMTP.
/// </summary>
public sealed class JourneyTests
{
    private const string Reader = "leserin@example.test";
    private const string Editor = "redaktion@example.test";

    [ProviderTheory, DatabaseProviders]
    public async Task Import_invite_consent_confirm_send_and_one_click_unsubscribe(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var staff = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        // First run: the setup code from the console creates the first admin.
        var setup = await staff.GetStringAsync("/setup");
        var response = await staff.PostFormAsync("/setup", setup, new()
        {
            ["Code"] = app.Service<SetupCode>().Value,
            ["Email"] = Editor,
            ["Password"] = "correct horse battery",
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        // The admin creates a newsletter.
        var form = await staff.GetStringAsync("/admin/newsletters/edit");
        response = await staff.PostFormAsync("/admin/newsletters/edit", form, new Dictionary<string, string>
        {
            ["Input.Name"] = "Tagblatt Eilmeldungen",
            ["Input.Slug"] = "eilmeldungen",
            ["Input.SenderName"] = "Tagblatt",
            ["Input.SenderAddress"] = "newsletter@tagblatt.example.test",
            ["Input.DefaultRegion"] = "DE",
            ["Input.Impressum"] = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt",
            ["Input.PrivacyNoticeUrl"] = "https://tagblatt.example.test/datenschutz",
            ["Input.InvitationMessage"] = "Hallo {name}, hier geht es zum E-Mail-Newsletter: {link}",
            // Imports and invitations need the migration end (C16).
            ["Input.MigrationEndDate"] = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        }.WithLegalIdentity());
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var newsletter = await app.WithDbAsync(db => db.Newsletters.SingleAsync());

        // Step 1: an editor uploads a CSV; numbers in several shapes, one duplicate, one landline.
        var csv = "Telefonnummer;Name\r\n0160 24 24 24 0;Anna Muster\r\n+49 (0)160 2424240;Anna Doppelt\r\n0171/5551234;Ben Beispiel\r\n030 1234567;Festnetz\r\n";
        var (preview, report, _) = await staff.ImportThroughUiAsync(newsletter.Id, "liste.csv", Encoding.UTF8.GetBytes(csv), "WhatsApp-Einwilligung bis 06.12.2019");
        Assert.Contains("0160 24 24 24 0", preview); // the preview shows the first rows before anything is stored
        Assert.Contains("Importiert</dt><dd class=\"col-sm-9\">2<", report);
        Assert.Contains("keine Mobilnummer", report);
        var contacts = await app.WithDbAsync(db => db.Contacts.ToListAsync());
        Assert.Equal(2, contacts.Count);
        var phones = app.Service<PhoneProtector>();
        Assert.Equal(["+491602424240", "+491715551234"], contacts.Select(c => phones.Decrypt(c.PhoneEncrypted!)).Order());
        Assert.DoesNotContain(contacts, c => Encoding.UTF8.GetString(c.PhoneEncrypted!).Contains("1602424240"));

        // Step 2: the contact list shows the personal link and the wa.me draft carrying it (C27).
        var list = await staff.GetStringAsync($"/admin/contacts/{newsletter.Id}");
        var invitation = Html.Links(list).First(l => l.StartsWith("http://localhost/i/"));
        var waMe = Html.Links(list).Single(l => l.StartsWith("https://wa.me/491602424240?text="));
        Assert.Contains(Uri.EscapeDataString(invitation), waMe);
        Assert.Contains(Uri.EscapeDataString("Hallo Anna,"), waMe);

        // Step 3: the reader opens the link, gives consent and submits.
        var reader = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Linux; Android 14) TestPhone");
        var invitationPath = new Uri(invitation).AbsolutePath;
        var page = await reader.GetStringAsync(invitationPath);
        Assert.DoesNotContain("Anna", page); // a forwarded invitation must not reveal the contact (C34)
        Assert.Contains("type=\"checkbox\"", page);
        Assert.DoesNotContain("checked", page); // the consent box is unticked (C2)
        response = await reader.PostFormAsync(invitationPath, page, new()
        {
            ["Input.Email"] = "  Leserin@EXAMPLE.test ",
            ["Input.Consent"] = "true",
            ["Input.AgeConfirmed"] = "true",
            ["Input.ConsentTextId"] = Html.InputValue(page, "Input.ConsentTextId")!,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Postfach", await response.Content.ReadAsStringAsync());

        var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal(SubscriberStatus.Pending, subscriber.Status);
        Assert.Equal("Leserin@example.test", subscriber.Email);
        var signUp = await app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        var shownText = await app.WithDbAsync(db => db.ConsentTexts.SingleAsync(t => t.Id == signUp.ConsentTextId));
        Assert.Equal(shownText.Sha256, signUp.ConsentTextSha256);
        Assert.Equal("de", shownText.Language);
        Assert.Equal("invitation", signUp.Page);
        Assert.Contains("TestPhone", signUp.UserAgent);
        Assert.Equal(contacts.Single(c => phones.Decrypt(c.PhoneEncrypted!) == "+491602424240").Id, signUp.InvitationContactId);

        // Step 4: the worker delivers the DOI mail over SMTP; its Message-ID is in the ledger.
        var doi = await app.Smtp.WaitForAsync(Reader, "bestätigen");
        Assert.NotNull(doi.TextBody);
        Assert.Contains("Tagblatt GmbH", doi.TextBody);
        var confirmLink = Html.Links(doi.HtmlBody).First(l => l.StartsWith("http://localhost/confirm/"));
        await WaitUntilAsync(() => app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.DoiSent && e.MessageId == doi.MessageId)));

        // Step 5: GET shows a button and confirms nothing (C9); the POST confirms and deletes the number (C16).
        var confirmPath = new Uri(confirmLink).AbsolutePath;
        var confirmPage = await reader.GetStringAsync(confirmPath);
        Assert.Equal(SubscriberStatus.Pending, (await app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);
        response = await reader.PostFormAsync(confirmPath, confirmPage, []);
        var thanks = await response.Content.ReadAsStringAsync();
        Assert.Contains("Anmeldung bestätigt", thanks);
        Assert.Contains("Telefonnummer aus dem WhatsApp-Newsletter haben wir gelöscht", thanks);
        subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal(SubscriberStatus.Confirmed, subscriber.Status);
        var confirmedContact = await app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.Id == signUp.InvitationContactId));
        Assert.Null(confirmedContact.PhoneEncrypted);
        Assert.NotNull(confirmedContact.ConfirmedAtUtc);
        Assert.Contains("Bereits bestätigt", await reader.GetStringAsync(confirmPath));

        // Step 6: the editor writes a campaign, sends a test, then sends it to all confirmed subscribers.
        var editor = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/edit");
        response = await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/edit?handler=Save", editor, new()
        {
            ["Input.Subject"] = "Eilmeldung: Brücke gesperrt",
            ["Input.Preheader"] = "Was Pendler jetzt wissen müssen",
            ["Input.Body"] = "Die **Mainbrücke** ist ab sofort gesperrt.\n\n<script>alert(1)</script>\n\n[Mehr lesen](https://tagblatt.example.test/a/1)",
        });
        var campaignUrl = response.Headers.Location!.OriginalString;
        var campaignPage = await staff.GetStringAsync(campaignUrl);
        // The preview is the real mail, framed from its own endpoint (its own CSP, sandboxed).
        var previewUrl = System.Text.RegularExpressions.Regex.Match(campaignPage, "<iframe[^>]*src=\"([^\"]+)\"").Groups[1].Value;
        Assert.Contains("<strong>Mainbrücke</strong>", await staff.GetStringAsync(WebUtility.HtmlDecode(previewUrl)));
        Assert.DoesNotContain("<script>alert", campaignPage);
        await staff.PostFormAsync(campaignUrl + "?handler=Test", campaignPage, new() { ["TestAddresses"] = Editor });
        var test = await app.Smtp.WaitForAsync(Editor, "Brücke gesperrt");
        Assert.StartsWith("[TEST]", test.Subject);

        campaignPage = await staff.GetStringAsync(campaignUrl);
        response = await staff.PostFormAsync(campaignUrl + "?handler=Send", campaignPage, new() { ["ConfirmSend"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var issue = await app.Smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address == "Leserin@example.test") && m.Subject == "Eilmeldung: Brücke gesperrt");

        // Step 7: C21–C23 and C25 on the delivered mail.
        var unsubscribeHeader = issue.Headers["List-Unsubscribe"]!;
        Assert.Matches("^<http://localhost/u/[A-Za-z0-9_-]{43}>$", unsubscribeHeader);
        Assert.Equal("List-Unsubscribe=One-Click", issue.Headers["List-Unsubscribe-Post"]);
        Assert.Contains("eilmeldungen.localhost", issue.Headers[HeaderId.ListId]);
        Assert.IsType<MultipartAlternative>(issue.Body);
        var unsubscribeUrl = unsubscribeHeader.Trim('<', '>');
        Assert.Contains(unsubscribeUrl, Html.Links(issue.HtmlBody));
        Assert.Contains(unsubscribeUrl, issue.TextBody);
        Assert.Contains("Tagblatt GmbH", issue.HtmlBody);
        Assert.Contains("Art. 21", issue.TextBody);
        Assert.False(string.IsNullOrEmpty(issue.MessageId));

        // A GET never unsubscribes.
        var unsubscribePath = new Uri(unsubscribeUrl).AbsolutePath;
        Assert.Contains("abbestellen", await reader.GetStringAsync(unsubscribePath));
        Assert.Equal(SubscriberStatus.Confirmed, (await app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);

        // RFC 8058: a mail provider POSTs without cookies or antiforgery token and gets 200, no redirect.
        using var provider = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        response = await provider.PostAsync(unsubscribePath, new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal(SubscriberStatus.Unsubscribed, subscriber.Status);
        var withdrawal = await app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.Withdrawn));
        Assert.Equal("one-click", withdrawal.Channel);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}
