using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// A newsletter goes live only with its legal identity complete, and stays live only while it is (C38);
/// every reader page links the Impressum and the privacy notice (C39).
/// </summary>
public sealed class GoLiveTests
{
    private const string Subject = "Eilmeldung: Brücke gesperrt";

    /// <summary>What a newsletter made with create-newsletter and only its required fields (and an end date, for imports) looks like.</summary>
    private static async Task<Newsletter> BareNewsletterAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
        }, "test");
    }

    [Fact]
    public async Task A_newsletter_without_legal_identity_shows_not_open_yet_and_takes_no_sign_up_C38()
    {
        await using var app = new AppFactory();
        var newsletter = await BareNewsletterAsync(app);
        var reader = app.ReaderClient();

        var page = await reader.GetStringAsync("/n/eilmeldungen");
        Assert.Contains("startet in Kürze", page);
        Assert.DoesNotContain("Input.Email", page);
        Assert.DoesNotContain("<form", page);

        // The personal link too, and opening it is not counted as an opened invitation.
        var link = (await app.InvitationsAsync(newsletter, "0160 2424240")).Single();
        var invitation = await reader.GetStringAsync(link);
        Assert.Contains("startet in Kürze", invitation);
        Assert.DoesNotContain("Input.Email", invitation);
        await app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.Null(await app.WithDbAsync(db => db.Contacts.Select(c => c.OpenedAtUtc).SingleAsync()));

        // A sign-up that reaches the service anyway (a form left open, a script) stores nothing and sends nothing.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var text = (await scope.ServiceProvider.GetRequiredService<ConsentTextService>().ForReaderAsync(newsletter, "de"))!;
            var outcome = await scope.ServiceProvider.GetRequiredService<SignUpService>()
                .SignUpAsync(new SignUpRequest(newsletter, text, "leserin@example.test", "de", null, "127.0.0.1", "test", "general"));
            Assert.Equal(SignUpOutcome.NotOpen, outcome);
        }
        Assert.False(await app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.False(await app.WithDbAsync(db => db.OutboundMessages.AnyAsync()));

        // Once the identity is complete, the same page takes sign-ups.
        await CompleteAsync(app, newsletter.Id);
        var open = await reader.GetStringAsync("/n/eilmeldungen");
        Assert.Contains("Input.Email", open);
        Assert.Equal(HttpStatusCode.OK, (await reader.SignUpAsync("leserin@example.test")).StatusCode);
        await app.Smtp.WaitForAsync("leserin@example.test", "");
    }

    [Fact]
    public async Task The_not_open_page_and_the_footer_speak_English_too_C38_C39()
    {
        await using var app = new AppFactory();
        var newsletter = await BareNewsletterAsync(app);
        var reader = app.ReaderClient("en");
        var closed = await reader.GetStringAsync("/n/eilmeldungen");
        Assert.Contains("is starting soon", closed);
        Assert.Contains("Sign-up for this newsletter is not open yet", closed);

        await CompleteAsync(app, newsletter.Id);
        var open = await reader.GetStringAsync("/n/eilmeldungen");
        Assert.Contains(">Privacy notice</a>", open);
        Assert.Contains("Controller: " + LegalIdentity.ControllerName, open);
    }

    [Theory]
    [InlineData(nameof(Newsletter.ControllerName))]
    [InlineData(nameof(Newsletter.ControllerAddress))]
    [InlineData(nameof(Newsletter.ControllerEmail))]
    [InlineData(nameof(Newsletter.Impressum))]
    [InlineData(nameof(Newsletter.PrivacyNoticeUrl))]
    [InlineData(nameof(Newsletter.PrivacyNoticeVersion))]
    public void Each_part_of_the_legal_identity_is_required_C38(string field)
    {
        var newsletter = new Newsletter { Slug = "x", Name = "x", SenderName = "x", SenderAddress = "x@example.test" }.Complete();
        Assert.True(LegalReadiness.IsOpen(newsletter));
        typeof(Newsletter).GetProperty(field)!.SetValue(newsletter, " ");
        Assert.False(LegalReadiness.IsOpen(newsletter));
        Assert.Single(LegalReadiness.Missing(newsletter));
    }

    [Fact]
    public void An_Impressum_page_instead_of_the_text_will_do_but_not_a_link_a_reader_cannot_open_C38()
    {
        var newsletter = new Newsletter { Slug = "x", Name = "x", SenderName = "x", SenderAddress = "x@example.test", Impressum = "" }.Complete();
        newsletter.Impressum = "";
        newsletter.ImpressumUrl = "https://tagblatt.example.test/impressum";
        Assert.True(LegalReadiness.IsOpen(newsletter));
        newsletter.ImpressumUrl = "javascript:alert(1)";
        Assert.Equal([LegalItem.Impressum], LegalReadiness.Missing(newsletter));
        newsletter.ImpressumUrl = "https://tagblatt.example.test/impressum";
        newsletter.PrivacyNoticeUrl = "datenschutz.html";
        Assert.Equal([LegalItem.PrivacyNoticeUrl], LegalReadiness.Missing(newsletter));
    }

    [Fact]
    public async Task A_campaign_cannot_start_or_be_scheduled_until_the_newsletter_is_open_C38()
    {
        await using var app = new AppFactory();
        var newsletter = await BareNewsletterAsync(app);
        var id = await app.CampaignAsync(newsletter, Subject, start: false);
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var editPath = $"/admin/campaigns/{newsletter.Id}/edit/{id}";

        var editor = await staff.GetStringAsync(editPath);
        var sent = await staff.PostFormAsync($"{editPath}?handler=Send", editor, new() { ["confirmSend"] = "true" });
        Assert.Contains("noch nicht freigeschaltet", await sent.Content.ReadAsStringAsync());
        var scheduled = await staff.PostFormAsync($"{editPath}?handler=Schedule", editor,
            new() { ["scheduleAt"] = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Contains("noch nicht freigeschaltet", await scheduled.Content.ReadAsStringAsync());

        Assert.Equal(CampaignStatus.Draft, (await app.CampaignRowAsync(id)).Status);
        Assert.False(await app.WithDbAsync(db => db.OutboundMessages.AnyAsync()));
    }

    [Fact]
    public async Task A_newsletter_whose_Impressum_is_removed_while_sending_pauses_its_campaign_and_sends_nothing_C38_C25()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test", "leser@example.test");
        await app.OutboxIdleAsync();
        var id = await app.CampaignAsync(newsletter, Subject, start: false);

        // The state a live newsletter is in when an editor empties its Impressum while the campaign's rows wait:
        // written directly, so the worker (not the start) is what must hold them back. One transaction: a worker
        // that saw the campaign 'sending' before its rows were written would rightly call it sent.
        await app.WithDbAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.Impressum, ""));
            await db.Campaigns.ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Sending)
                .SetProperty(c => c.BodyHtml, "<p>Die Nachricht.</p>").SetProperty(c => c.StartedAtUtc, DateTime.UtcNow));
            var outbox = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Common.AppOptions>>().Value;
            foreach (var reader in await db.Subscribers.Where(s => s.Status == SubscriberStatus.Confirmed).ToListAsync())
            {
                db.OutboundMessages.Add(new OutboundMessage
                {
                    Kind = MessageKind.Campaign, Priority = 10, Status = MessageStatus.Queued, NewsletterId = newsletter.Id, CampaignId = id,
                    SubscriberId = reader.Id, ToAddress = reader.Email, MessageId = NewsletterMigrator.Data.MessageIds.New(outbox.BaseUri.Host),
                    CreatedAtUtc = DateTime.UtcNow, NextAttemptAtUtc = DateTime.UtcNow,
                });
            }
            var written = await db.SaveChangesAsync();
            await transaction.CommitAsync();
            return written;
        });
        app.Service<Sending.OutboxSignal>().Notify();

        var paused = await app.WaitForCampaignAsync(id, CampaignStatus.Paused);
        Assert.Contains("legal identity incomplete", paused.PauseReason);
        Assert.Empty(app.Smtp.Received(Subject));

        // Complete again and resume: now the readers get it, with the Impressum (C25).
        await CompleteAsync(app, newsletter.Id);
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, id, "redaktion@example.test"));
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        var received = app.Smtp.Received(Subject);
        Assert.Equal(2, received.Count);
        Assert.All(received.Values, mails => Assert.Contains("§18 Abs. 2 MStV", mails.Single().TextBody));
    }

    [Fact]
    public async Task No_invitation_is_queued_exported_or_sent_through_the_Cloud_API_until_the_newsletter_is_open_C38()
    {
        await using var app = new AppFactory(settings: new()
        {
            ["WhatsApp:Enabled"] = "true", ["WhatsApp:AccessToken"] = "EAAG-test-token", ["WhatsApp:PhoneNumberId"] = "106540352242922",
            ["WhatsApp:TemplateName"] = "newsletter_umzug", ["WhatsApp:TemplateLanguage"] = "de", ["WhatsApp:AppSecret"] = "secret",
            ["WhatsApp:VerifyToken"] = "verify", ["WhatsApp:BaseUrl"] = "http://127.0.0.1:9/", // discard: nothing may be sent there
        });
        var newsletter = await BareNewsletterAsync(app);
        await app.InvitationsAsync(newsletter, "0160 2424240");
        var contactId = await app.WithDbAsync(db => db.Contacts.Select(c => c.Id).SingleAsync());
        var admin = await app.AdminAsync();

        var queue = await admin.GetStringAsync($"/admin/invitations/{newsletter.Id}");
        Assert.Contains("Einladungen sind erst möglich, wenn der Newsletter geöffnet ist", queue);
        var send = await admin.PostFormAsync($"/admin/invitations/{newsletter.Id}?handler=Send&contactId={contactId}", queue, new());
        Assert.DoesNotContain("wa.me", send.Headers.Location?.OriginalString ?? "");

        var export = await admin.GetAsync($"/admin/contacts/{newsletter.Id}/export.csv");
        Assert.Equal(HttpStatusCode.Conflict, export.StatusCode);
        Assert.Contains("Einladungen sind erst möglich", await export.Content.ReadAsStringAsync());

        var api = await admin.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");
        Assert.Contains("Einladungen sind erst möglich", api);
        await using (var scope = app.Services.CreateAsyncScope())
            Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<Inviting.WhatsAppInvitations>().EnqueueAllAsync(newsletter, null, "test"));

        Assert.Null(await app.WithDbAsync(db => db.Contacts.Select(c => c.InvitedAtUtc).SingleAsync()));
        Assert.False(await app.WithDbAsync(db => db.WhatsAppMessages.AnyAsync()));
    }

    [Fact]
    public async Task The_dashboard_lists_what_is_missing_and_the_settings_page_completes_it_C38()
    {
        await using var app = new AppFactory();
        var newsletter = await BareNewsletterAsync(app);
        var staff = await SendingEngineTests.StaffClientAsync(app);

        var dashboard = await staff.GetStringAsync("/admin");
        Assert.Contains("Noch nicht startklar", dashboard);
        foreach (var item in new[] { "Name des Verantwortlichen", "Postanschrift des Verantwortlichen", "Kontaktadresse für Datenschutzanfragen",
                     "Impressum (Text oder Link)", "Link zur Datenschutzerklärung", "Version der Datenschutzerklärung" })
            Assert.Contains(item, dashboard);

        var settingsPath = $"/admin/newsletters/edit/{newsletter.Id}";
        var settings = await staff.GetStringAsync(settingsPath);
        var fields = SettingsForm(settings);
        fields["Input.ControllerEmail"] = "kein-at-zeichen";
        fields["Input.PrivacyNoticeUrl"] = "datenschutz";
        var refused = await staff.PostFormAsync(settingsPath, settings, fields);
        var refusedPage = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Bitte geben Sie eine gültige E-Mail-Adresse ein", refusedPage);
        Assert.Contains("Noch nicht startklar", refusedPage); // a refused save still shows what is missing, never "ready"
        Assert.Equal("", await app.WithDbAsync(db => db.Newsletters.Select(n => n.ControllerName).SingleAsync()));

        fields = SettingsForm(settings);
        var saved = await staff.PostFormAsync(settingsPath, settings, fields);
        var savedPage = await saved.Content.ReadAsStringAsync(); // the staff client follows the redirect to the page
        Assert.Contains("Gespeichert", savedPage);
        Assert.Contains("Startklar", savedPage);
        dashboard = await staff.GetStringAsync("/admin");
        Assert.DoesNotContain("Noch nicht startklar", dashboard);

        // The test recipients (C45) are kept on the same page: a wrong entry is named and nothing is saved.
        settings = await staff.GetStringAsync(settingsPath);
        fields = SettingsForm(settings);
        fields["Input.TestRecipients"] = "chefin@tagblatt.example.test\r\nkein-at-zeichen";
        var wrongList = WebUtility.HtmlDecode(await (await staff.PostFormAsync(settingsPath, settings, fields)).Content.ReadAsStringAsync());
        Assert.Contains("Keine gültigen E-Mail-Adressen: kein-at-zeichen", wrongList);
        Assert.Equal("", await app.WithDbAsync(db => db.Newsletters.Select(n => n.TestRecipients).SingleAsync()));
        fields["Input.TestRecipients"] = " Chefin@Tagblatt.EXAMPLE.test ;\r\nvolontaer@tagblatt.example.test\r\nchefin@tagblatt.example.test";
        await staff.PostFormAsync(settingsPath, settings, fields);
        Assert.Equal("Chefin@tagblatt.example.test\nvolontaer@tagblatt.example.test",
            await app.WithDbAsync(db => db.Newsletters.Select(n => n.TestRecipients).SingleAsync()));
        Assert.Contains("Input.Email", await app.ReaderClient().GetStringAsync("/n/eilmeldungen"));
    }

    [Theory]
    [InlineData("/n/eilmeldungen")]
    [InlineData("/n/eilmeldungen/impressum")]
    [InlineData("/confirm/{confirm}")]
    [InlineData("/u/{unsubscribe}")]
    [InlineData("/manage/{unsubscribe}")]
    [InlineData("/confirm/forged-token")]
    [InlineData("/u/forged-token")]
    [InlineData("/i/forged-token")]
    public async Task Every_page_a_reader_can_reach_links_Impressum_and_privacy_notice_C39(string path)
    {
        await using var app = new AppFactory();
        // Two newsletters: each page must link its own newsletter's pages, not merely the first one's.
        await app.NewsletterAsync("sport");
        await app.NewsletterAsync();
        await app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.ImpressumUrl, n => "https://tagblatt.example.test/" + n.Slug + "/impressum")));
        var reader = app.ReaderClient();
        if (path.Contains('{'))
        {
            await reader.SignUpAsync("leserin@example.test");
            var doi = await app.Smtp.WaitForAsync("leserin@example.test", "");
            var confirm = ReaderSteps.PathOf(doi, "confirm");
            path = path.Replace("{confirm}", confirm.Split('/').Last());
            if (path.Contains("{unsubscribe}"))
            {
                await reader.PostFormAsync(confirm, await reader.GetStringAsync(confirm), new());
                var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync());
                var token = app.Service<Common.TokenService>().Create(Common.TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
                path = path.Replace("{unsubscribe}", token);
            }
        }

        var response = await reader.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<footer class=\"reader-footer", html);
        // A forged link names no newsletter: the portal's legal pages are those of its first open newsletter.
        var owner = path.Contains("forged") ? "sport" : "eilmeldungen";
        Assert.Contains($"href=\"https://tagblatt.example.test/{owner}/impressum\"", html);
        Assert.Contains("href=\"https://tagblatt.example.test/datenschutz\"", html);
        Assert.Contains("Verantwortlich: Tagblatt Verlag GmbH", html);
    }

    [Fact]
    public async Task The_error_page_of_a_rate_limited_sign_up_links_its_newsletters_legal_pages_C39()
    {
        await using var app = new AppFactory(settings: new() { ["Consent:SignUpsPerIpPerHour"] = "1" });
        await app.NewsletterAsync("eilmeldungen");
        await app.NewsletterAsync("sport");
        var reader = app.ReaderClient();
        await reader.SignUpAsync("eins@example.test", "/n/sport");
        var limited = await reader.SignUpAsync("zwei@example.test", "/n/sport");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var html = await limited.Content.ReadAsStringAsync();
        Assert.Contains("href=\"/n/sport/impressum\"", html); // found by the slug, though two newsletters exist
        Assert.Contains("href=\"https://tagblatt.example.test/datenschutz\"", html);
    }

    [Fact]
    public async Task The_Impressum_text_has_its_own_page_when_the_portal_gives_no_link_C39()
    {
        await using var app = new AppFactory();
        await app.NewsletterAsync();
        var reader = app.ReaderClient();
        var page = await reader.GetStringAsync("/n/eilmeldungen");
        Assert.Contains("href=\"/n/eilmeldungen/impressum\"", page);
        var impressum = WebUtility.HtmlDecode(await reader.GetStringAsync("/n/eilmeldungen/impressum"));
        Assert.Contains("Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt", impressum);
        Assert.Contains(LegalIdentity.ControllerEmail, impressum);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/n/unbekannt/impressum")).StatusCode);
    }

    private static async Task CompleteAsync(AppFactory app, int newsletterId) => await app.WithDbAsync(async db =>
    {
        var n = await db.Newsletters.SingleAsync(x => x.Id == newsletterId);
        n.Complete();
        return await db.SaveChangesAsync();
    });

    /// <summary>The settings form as the page shows it, with the legal identity filled in.</summary>
    private static Dictionary<string, string> SettingsForm(string page)
    {
        var fields = new Dictionary<string, string>();
        foreach (var name in new[] { "Input.Name", "Input.Slug", "Input.SenderName", "Input.SenderAddress", "Input.DefaultRegion", "Input.InvitationMessage", "Input.MigrationEndDate" })
            fields[name] = Html.InputValue(page, name) ?? Html.TextAreaValue(page, name) ?? "";
        fields["Input.ControllerName"] = LegalIdentity.ControllerName;
        fields["Input.ControllerAddress"] = LegalIdentity.ControllerAddress;
        fields["Input.ControllerEmail"] = LegalIdentity.ControllerEmail;
        fields["Input.Impressum"] = LegalIdentity.ImpressumText;
        fields["Input.PrivacyNoticeUrl"] = LegalIdentity.PrivacyUrl;
        fields["Input.PrivacyNoticeVersion"] = LegalIdentity.PrivacyVersion;
        return fields;
    }
}
