using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 12: what the DOI mail and every mail's footer say (C39, C25), and what the ledger records about a
/// sign-up and its DOI mail, shown in the printable proof and both exports (C43).
/// </summary>
public sealed class ConsentRecordTests : IAsyncLifetime
{
    private const string ImpressumUrl = "https://tagblatt.example.test/impressum";
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("de-DE", "Verantwortlich: ", "Dieser Link ist gültig bis {0} Uhr (deutsche Zeit).")]
    [InlineData("en-GB,en;q=0.9", "Controller: ", "This link is valid until {0} (Berlin time).")]
    public async Task Doi_mail_names_the_controller_carries_the_Impressum_and_says_until_when_its_link_is_valid_C39(
        string language, string controllerLabel, string validUntil)
    {
        await NewsletterWithImpressumPageAsync();
        await _app.ReaderClient(language).SignUpAsync("reader@example.test");
        var mail = await _app.Smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address == "reader@example.test"));
        var expires = (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).ConfirmTokenExpiresAtUtc!.Value;

        var controller = $"{controllerLabel}{LegalIdentity.ControllerName}, {LegalIdentity.ControllerAddress}, {LegalIdentity.ControllerEmail}";
        foreach (var part in new[] { mail.TextBody, WebUtility.HtmlDecode(mail.HtmlBody) })
        {
            Assert.Contains(controller, part);
            Assert.Contains("Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt", part); // the Impressum text
            Assert.Contains(ImpressumUrl, part);
            // Berlin wall-clock time (UTC+1 in winter, UTC+2 in summer), derived here from the zone database, not the app's helper.
            var berlin = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(expires, DateTimeKind.Utc), TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
            Assert.Contains(string.Format(validUntil, berlin.ToString("dd.MM.yyyy HH:mm", System.Globalization.CultureInfo.InvariantCulture)), part);
        }
        // Still neutral (C8): besides the confirm link only the Impressum page is linked.
        Assert.Equal(["confirm", ImpressumUrl], Html.Links(mail.HtmlBody).Select(l => l.Contains("/confirm/") ? "confirm" : l).Distinct().Order());
    }

    [Fact]
    public async Task Every_newsletter_mail_names_the_controller_and_links_the_Impressum_page_C25()
    {
        var newsletter = await NewsletterWithImpressumPageAsync();
        await _app.ConfirmedReadersAsync(newsletter, "reader@example.test");
        await _app.CampaignAsync(newsletter, "Ausgabe 1");
        var mail = await _app.Smtp.WaitForAsync("reader@example.test", "Ausgabe 1");

        foreach (var part in new[] { mail.TextBody, WebUtility.HtmlDecode(mail.HtmlBody) })
        {
            Assert.Contains($"Verantwortlich: {LegalIdentity.ControllerName}, {LegalIdentity.ControllerAddress}", part);
            Assert.Contains("Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt", part);
            Assert.Contains(ImpressumUrl, part);
        }
        Assert.Contains(ImpressumUrl, Html.Links(mail.HtmlBody));
    }

    [Fact]
    public async Task The_ledger_holds_age_confirmation_privacy_notice_version_and_the_hash_of_the_DOI_text_as_sent_C43()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ReaderClient().SignUpAsync("reader@example.test");
        var mail = await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen");
        var events = await _app.WithDbAsync(db => db.ConsentEvents.OrderBy(e => e.Id).ToListAsync());
        var signUp = events.Single(e => e.Kind == ConsentEventKind.SignUp);
        var queued = events.Single(e => e.Kind == ConsentEventKind.DoiQueued);

        Assert.True(signUp.AgeConfirmed);
        // The label of the consent-text version the reader was shown.
        var shown = await _app.WithDbAsync(db => db.ConsentTexts.SingleAsync(t => t.Id == signUp.ConsentTextId));
        Assert.False(string.IsNullOrEmpty(shown.PrivacyNoticeVersion));
        Assert.Equal(shown.PrivacyNoticeVersion, signUp.PrivacyNoticeVersion);
        Assert.Equal("doi-v2", queued.TemplateVersion);
        // The hash is that of the text the reader received, with the confirm link left out …
        Assert.Equal(HashWithoutLink(mail), queued.DoiTextSha256);
        // … and can be derived again from template, settings and the link's expiry.
        var expires = (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).ConfirmTokenExpiresAtUtc;
        Assert.Equal(queued.DoiTextSha256, _app.Service<MessageFactory>().DoiText(newsletter, "de", expires).Sha256());
        Assert.NotEqual(queued.DoiTextSha256, _app.Service<MessageFactory>().DoiText(newsletter, "de", expires!.Value.AddHours(1)).Sha256());
    }

    [Fact]
    public async Task The_DoiSent_entry_keeps_the_hash_of_the_text_as_sent_when_the_settings_changed_while_the_mail_waited_C43()
    {
        await _app.NewsletterAsync();
        await _app.Smtp.StopAsync();
        await _app.ReaderClient().SignUpAsync("reader@example.test");
        await ReaderSteps.WaitUntilAsync(() => _app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.Attempts > 0)));

        // While the mail server is away, the portal moves: the mail that finally goes out names the new address.
        await _app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.Impressum, "Tagblatt GmbH, Neue Straße 2, 12345 Musterstadt")));
        _app.Smtp.Start();
        var mail = await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen");
        Assert.Contains("Neue Straße 2", mail.TextBody);
        await ReaderSteps.WaitUntilAsync(() => _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.DoiSent)));

        var events = await _app.WithDbAsync(db => db.ConsentEvents.ToListAsync());
        var queued = events.Single(e => e.Kind == ConsentEventKind.DoiQueued);
        var sent = events.Single(e => e.Kind == ConsentEventKind.DoiSent);
        Assert.Equal(HashWithoutLink(mail), sent.DoiTextSha256);
        Assert.NotEqual(queued.DoiTextSha256, sent.DoiTextSha256); // what was meant, and what went out
        Assert.Equal("doi-v2", sent.TemplateVersion);
    }

    [Fact]
    public async Task The_printable_proof_and_both_exports_show_the_complete_consent_record_C43()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ReaderClient().SignUpAsync("reader@example.test");
        await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen");
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.AsNoTracking().SingleAsync());
        var hash = (await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.DoiQueued))).DoiTextSha256!;
        var version = (await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp))).PrivacyNoticeVersion!;
        Assert.Matches("^[0-9a-f]{64}$", hash);
        await _app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        var admin = _app.ReaderClient();
        await admin.SignInAsync("admin@example.test", "long enough password");

        // The printable proof.
        var proof = WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/subscribers/proof/{subscriber.Id}"));
        Assert.Contains("Alter ab 16 bestätigt</dt><dd class=\"col-sm-9\">ja</dd>", proof);
        Assert.Contains($"Gezeigte Version der Datenschutzerklärung</dt><dd class=\"col-sm-9\">{version}</dd>", proof);
        Assert.Contains("doi-v2", proof);
        Assert.Contains(hash, proof);

        // The admin's JSON and CSV export.
        using var json = JsonDocument.Parse(await admin.GetStringAsync($"/admin/subscribers/proof/{subscriber.Id}?handler=Export&format=json"));
        var events = json.RootElement.GetProperty("subscribers")[0].GetProperty("events").EnumerateArray().ToList();
        var signUp = events.Single(e => e.GetProperty("kind").GetString() == "SignUp");
        Assert.True(signUp.GetProperty("ageConfirmed").GetBoolean());
        Assert.Equal(version, signUp.GetProperty("privacyNoticeVersion").GetString());
        var queued = events.Single(e => e.GetProperty("kind").GetString() == "DoiQueued");
        Assert.Equal("doi-v2", queued.GetProperty("templateVersion").GetString());
        Assert.Equal(hash, queued.GetProperty("doiTextSha256").GetString());

        var csv = Encoding.UTF8.GetString(await admin.GetByteArrayAsync($"/admin/subscribers/proof/{subscriber.Id}?handler=Export&format=csv")).TrimStart('\uFEFF');
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(",privacy_notice_version,age_confirmed,privacy_notice_version_recorded,doi_text_sha256,objection_note,impressum,", lines[0]);
        // The sign-up's consent text ends with its privacy-notice version; then the new columns follow.
        Assert.Contains(lines, l => l.Contains(",SignUp,") && l.Contains($",{version},true,{version},,"));
        // The DOI-queued row: no age or version of its own, the hash, no objection note or Impressum, then the import columns.
        Assert.Contains(lines, l => l.Contains(",DoiQueued,") && l.Contains($",,,{hash},,,"));

        // The reader's own data export (Art. 15, 20).
        byte[] own;
        await using (var scope = _app.Services.CreateAsyncScope())
            own = await scope.ServiceProvider.GetRequiredService<DataExportService>().ExportAsync(subscriber);
        using var export = JsonDocument.Parse(own);
        var ledger = export.RootElement.GetProperty("consentLedger").EnumerateArray().ToList();
        var ownSignUp = ledger.Single(e => e.GetProperty("kind").GetString() == "SignUp");
        Assert.True(ownSignUp.GetProperty("ageConfirmed").GetBoolean());
        Assert.Equal(version, ownSignUp.GetProperty("privacyNoticeVersion").GetString());
        Assert.Equal(hash, ledger.Single(e => e.GetProperty("kind").GetString() == "DoiQueued").GetProperty("doiTextSha256").GetString());
        Assert.Equal(LegalIdentity.ControllerName, export.RootElement.GetProperty("controller").GetProperty("name").GetString());
        Assert.Equal(newsletter.Name, export.RootElement.GetProperty("controller").GetProperty("newsletter").GetString());
    }

    /// <summary>The recipe the proof states: the text part with the confirm link removed, LF line endings, UTF-8, SHA-256.</summary>
    private static string HashWithoutLink(MimeMessage mail)
    {
        var link = Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"));
        var text = (mail.TextBody ?? "").ReplaceLineEndings("\n").Replace(link, "");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private async Task<Newsletter> NewsletterWithImpressumPageAsync()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.ImpressumUrl, ImpressumUrl)));
        newsletter.ImpressumUrl = ImpressumUrl;
        return newsletter;
    }
}
