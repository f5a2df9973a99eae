using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The consent page and the DOI mail as a reader meets them (issue 5, items 1–4).</summary>
public sealed class ConsentPageTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task The_consent_box_is_unticked_and_the_statement_stands_apart_C2()
    {
        await _app.NewsletterAsync();
        var html = await _app.ReaderClient().GetStringAsync("/n/eilmeldungen");

        var box = Regex.Match(html, "<input[^>]*name=\"Input.Consent\"[^>]*type=\"checkbox\"[^>]*>|<input[^>]*type=\"checkbox\"[^>]*name=\"Input.Consent\"[^>]*>").Value;
        Assert.NotEmpty(box);
        Assert.DoesNotContain("checked", box);

        // The statement is the box's label, alone in its own framed block: no email field, no age line, no other text.
        var block = Regex.Match(html, "<div class=\"consent-statement[^\"]*\">(.*?)</div>\\s*<span", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("name=\"Input.Consent\"", block);
        Assert.DoesNotContain("Input.Email", block);
        Assert.DoesNotContain("Input.AgeConfirmed", block);
        var statement = WebUtility.HtmlDecode(Regex.Match(block, "<label[^>]*>(.*?)</label>", RegexOptions.Singleline).Groups[1].Value).Trim();
        // It names the controller, the channel, the content, the frequency, and the right to withdraw (C2).
        Assert.Contains("Tagblatt", statement);
        Assert.Contains("E-Mail-Newsletter", statement);
        Assert.Contains("Eilmeldungen", statement);
        Assert.Contains("mehrmals täglich", statement);
        Assert.Contains("jederzeit widerrufen", statement);
    }

    [Fact]
    public async Task The_page_shows_the_Art_13_information_collapsible_with_the_privacy_notice_link_C3()
    {
        await _app.NewsletterAsync();
        var html = await _app.ReaderClient().GetStringAsync("/n/eilmeldungen");
        var details = Regex.Match(html, "<details[^>]*>(.*?)</details>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("<summary>Datenschutzinformationen</summary>", details);
        // The data protection officer appears only when the newsletter names one (PrivacyTextTests, C40).
        foreach (var essential in new[] { "Verantwortlich: Tagblatt", "Zweck", "Rechtsgrundlage", "Art. 6 Abs. 1 lit. a DSGVO",
                     "Empfänger", "Speicherdauer", "Auskunft", "Widerruf", "Aufsichtsbehörde" })
            Assert.Contains(essential, details);
        Assert.Contains("https://tagblatt.example.test/datenschutz", Html.Links(details));
        // The Art. 21 objection stands separately on the page (C4).
        Assert.Matches("<p class=\"small mt-3\">Widerspruchsrecht[^<]*Art. 21 DSGVO", html);

        var english = await _app.ReaderClient("en").GetStringAsync("/n/eilmeldungen");
        Assert.Contains("<summary>Privacy information</summary>", english);
        Assert.Contains("supervisory authority", english);
    }

    [Fact]
    public async Task Nothing_on_the_site_depends_on_consent_C5()
    {
        await _app.NewsletterAsync();
        var client = _app.ReaderClient();
        var response = await client.GetAsync("/n/eilmeldungen");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Only the antiforgery cookie: no tracking, no consent wall, no redirect to a consent step.
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        Assert.All(cookies, c => Assert.StartsWith("nm.af=", c));
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<iframe", html);

        // Declining (leaving the box unticked) is answered on the same page and leaves the reader free to go.
        var declined = await client.SignUpAsync("anna@example.test", consent: false);
        Assert.Equal(HttpStatusCode.OK, declined.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task The_reader_must_confirm_being_16_or_older_C6()
    {
        await _app.NewsletterAsync();
        var html = await _app.ReaderClient().GetStringAsync("/n/eilmeldungen");
        Assert.Contains("Ich bin mindestens 16 Jahre alt.", html);

        var response = await _app.ReaderClient().SignUpAsync("anna@example.test", age: false);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.Matches("id=\"age-error\"[^>]*>[^<]*mindestens 16 Jahre", answer);
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.False(await _app.WithDbAsync(db => db.ConsentEvents.AnyAsync()));
    }

    [Fact]
    public async Task The_ledger_records_the_version_the_reader_saw_even_when_the_text_changes_meanwhile_C7()
    {
        var newsletter = await _app.NewsletterAsync();
        var reader = _app.ReaderClient("en");
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone) ProofTest");
        var page = await reader.GetStringAsync("/n/eilmeldungen");
        var shownId = int.Parse(Html.InputValue(page, "Input.ConsentTextId")!);

        // The editor changes the English text while the reader is still reading: a new version appears.
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var texts = scope.ServiceProvider.GetRequiredService<ConsentTextService>();
            var v2 = await texts.SaveAsync(newsletter.Id, "en", "Yes, a different statement.", "Other info", "", "2");
            Assert.NotEqual(shownId, v2.Id);
        }

        await reader.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "reader@example.test"));
        var signUp = await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        var shown = await _app.WithDbAsync(db => db.ConsentTexts.SingleAsync(t => t.Id == shownId));
        Assert.Equal(shownId, signUp.ConsentTextId);
        Assert.Equal(shown.Sha256, signUp.ConsentTextSha256);
        Assert.Equal(ConsentTextService.Sha256(shown.Statement, shown.PrivacyInformation, shown.PrivacyNoticeUrl, shown.PrivacyNoticeVersion,
            shown.ObjectionNote, shown.Impressum), shown.Sha256);
        Assert.Contains(WebUtility.HtmlEncode(shown.Statement).Replace("&quot;", "\""), page.Replace("&quot;", "\""));
        Assert.Equal("en", shown.Language);
        Assert.Equal("general", signUp.Page);
        Assert.Contains("ProofTest", signUp.UserAgent);
        Assert.True(signUp.OccurredAtUtc > DateTime.UtcNow.AddMinutes(-1));
    }

    [Theory]
    [InlineData("de-DE", "Bitte bestätigen Sie Ihre Anmeldung", "ignorieren Sie diese E-Mail einfach")]
    [InlineData("en-GB,en;q=0.9", "Please confirm your subscription", "simply ignore this email")]
    public async Task The_DOI_mail_is_neutral_in_the_readers_language_with_HTML_and_text_and_its_Message_ID_in_the_ledger_C8(
        string language, string subject, string ignore)
    {
        await _app.NewsletterAsync();
        var response = await _app.ReaderClient(language).SignUpAsync("reader@example.test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var mail = await _app.Smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address == "reader@example.test"));
        Assert.StartsWith(subject, mail.Subject);
        Assert.IsType<MultipartAlternative>(mail.Body);
        Assert.Equal("newsletter@tagblatt.example.test", mail.From.Mailboxes.Single().Address);
        foreach (var part in new[] { mail.TextBody, WebUtility.HtmlDecode(mail.HtmlBody) })
        {
            Assert.Contains("/confirm/", part);
            Assert.Contains(ignore, part);
            Assert.Contains("Tagblatt GmbH, Musterstraße 1", part); // Impressum
        }
        Assert.Contains($"lang=\"{language[..2]}\"", mail.HtmlBody);

        // Neutral: the only link is the confirm link; no teaser, no other offer, no unsubscribe footer of a newsletter.
        var links = Html.Links(mail.HtmlBody).Distinct().ToList();
        Assert.Single(links);
        Assert.StartsWith("http://localhost/confirm/", links[0]);
        Assert.DoesNotContain("List-Unsubscribe", mail.Headers.Select(h => h.Field));

        // Queued through the outbox, then accepted by SMTP: both ledger entries carry the Message-ID.
        await WaitUntilAsync(() => _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.DoiSent)));
        var events = await _app.WithDbAsync(db => db.ConsentEvents.Where(e => e.Kind == ConsentEventKind.DoiQueued || e.Kind == ConsentEventKind.DoiSent).ToListAsync());
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(mail.MessageId, e.MessageId));
        Assert.All(events, e => Assert.Equal(SignUpService.DoiTemplateVersion, e.TemplateVersion));
        Assert.Equal(MessageKind.DoubleOptIn, (await _app.WithDbAsync(db => db.OutboundMessages.SingleAsync())).Kind);
    }

    [Fact]
    public async Task Opening_the_confirm_link_never_confirms_only_the_button_does_C9()
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        await reader.SignUpAsync("reader@example.test");
        var path = await ConfirmPathAsync("reader@example.test");

        // Mail scanners open (GET, HEAD) links, sometimes several times.
        for (var i = 0; i < 3; i++) await reader.GetAsync(path);
        await reader.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(SubscriberStatus.Pending, await StatusAsync());
        Assert.False(await _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.Confirmed)));

        var page = await reader.GetStringAsync(path);
        Assert.Matches("<form method=\"post\"[^>]*>\\s*<button type=\"submit\"[^>]*>Anmeldung bestätigen</button>", page);
        Assert.DoesNotContain("<script", page); // no auto-submit
        var confirmed = await reader.PostFormAsync(path, page, []);
        Assert.Contains("Anmeldung bestätigt", await confirmed.Content.ReadAsStringAsync());
        Assert.Equal(SubscriberStatus.Confirmed, await StatusAsync());
        var ledger = await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.Confirmed));
        Assert.Equal("confirm", ledger.Page);
    }

    [Fact]
    public async Task A_POST_without_the_antiforgery_token_confirms_nothing_C32()
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        await reader.SignUpAsync("reader@example.test");
        var path = await ConfirmPathAsync("reader@example.test");
        var response = await _app.ReaderClient().PostAsync(path, new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(SubscriberStatus.Pending, await StatusAsync());
    }

    [Fact]
    public async Task Invitation_pages_never_show_the_contacts_name_or_number_and_a_forwarded_link_gives_each_reader_their_own_DOI_C10_C34()
    {
        var newsletter = await _app.NewsletterAsync();
        int batch;
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            using var csv = new MemoryStream("Telefonnummer;Name\n0160 2424240;Anna Muster\n"u8.ToArray());
            batch = (await scope.ServiceProvider.GetRequiredService<Importing.ContactImporter>().ImportAsync(newsletter.Id, csv, "liste.csv", "test", TestImports.Basis)).BatchId;
        }
        var contact = await _app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.ImportBatchId == batch));
        Assert.Equal("Anna Muster", contact.DisplayName);
        var invitation = new Uri(_app.Service<Inviting.InvitationLinks>().InvitationUrl(contact)).AbsolutePath;

        var first = _app.ReaderClient();
        var html = await first.GetStringAsync(invitation);
        foreach (var secret in new[] { "Anna", "2424240", "160 24", "+49" }) Assert.DoesNotContain(secret, html);
        await first.SignUpAsync("anna@example.test", invitation);
        // Forwarded to a friend: a second sign-up on the same link, with its own DOI.
        await _app.ReaderClient().SignUpAsync("friend@example.test", invitation);

        var subscribers = await _app.WithDbAsync(db => db.Subscribers.OrderBy(s => s.Email).ToListAsync());
        Assert.Equal(["anna@example.test", "friend@example.test"], subscribers.Select(s => s.Email));
        Assert.All(subscribers, s => Assert.Equal(SubscriberStatus.Pending, s.Status));
        await _app.Smtp.WaitForAsync("anna@example.test", "bestätigen");
        await _app.Smtp.WaitForAsync("friend@example.test", "bestätigen");
        var signUps = await _app.WithDbAsync(db => db.ConsentEvents.Where(e => e.Kind == ConsentEventKind.SignUp).ToListAsync());
        Assert.All(signUps, e => Assert.Equal(contact.Id, e.InvitationContactId));
        Assert.All(signUps, e => Assert.Equal("invitation", e.Page));
    }

    [Theory]
    [InlineData("WhatsApp/2.23.20.0 A")]
    [InlineData("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")]
    [InlineData("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")]
    [InlineData("Twitterbot/1.0")]
    [InlineData("TelegramBot (like TwitterBot)")]
    [InlineData("")]
    public async Task Link_preview_fetchers_do_not_count_as_opened_C35(string agent)
    {
        var newsletter = await _app.NewsletterAsync();
        var invitation = (await _app.InvitationsAsync(newsletter, "0160 2424240")).Single();
        var preview = _app.ReaderClient();
        if (agent.Length > 0) preview.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", agent);
        Assert.Equal(HttpStatusCode.OK, (await preview.GetAsync(invitation)).StatusCode);
        await _app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.Null((await _app.WithDbAsync(db => db.Contacts.SingleAsync())).OpenedAtUtc);

        var reader = _app.ReaderClient();
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (Linux; Android 14)");
        await reader.GetAsync(invitation);
        await _app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.NotNull((await _app.WithDbAsync(db => db.Contacts.SingleAsync())).OpenedAtUtc);
    }

    [Fact]
    public async Task Mail_links_are_built_from_PublicBaseUrl_never_from_a_forged_Host_header_C29_C32()
    {
        await _app.NewsletterAsync();
        var forged = _app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://evil.example.test"), AllowAutoRedirect = false });
        var page = await forged.GetStringAsync("/n/eilmeldungen");
        var response = await forged.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "reader@example.test"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var mail = await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen");
        Assert.DoesNotContain("evil.example.test", mail.HtmlBody);
        Assert.DoesNotContain("evil.example.test", mail.TextBody);
        Assert.DoesNotContain("evil.example.test", mail.MessageId);
        Assert.All(Html.Links(mail.HtmlBody), l => Assert.StartsWith("http://localhost/", l));
    }

    [Fact]
    public async Task Token_pages_send_no_referrer_and_a_CSP_without_inline_script_C32()
    {
        var newsletter = await _app.NewsletterAsync();
        var invitation = (await _app.InvitationsAsync(newsletter, "0160 2424240")).Single();
        var reader = _app.ReaderClient();
        await reader.SignUpAsync("reader@example.test");
        var confirm = await ConfirmPathAsync("reader@example.test");
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        var unsubscribe = "/u/" + _app.Service<Common.TokenService>().Create(Common.TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);

        foreach (var path in new[] { invitation, confirm, unsubscribe })
        {
            var response = await _app.ReaderClient().GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("script-src 'self'", csp);
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.DoesNotContain("<script", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task The_DOI_mail_is_queued_through_the_outbox_never_sent_inside_the_request_C8()
    {
        // A mail server that is down must not slow or break the sign-up: the request only writes the outbox row.
        await using var app = new AppFactory(settings: new() { ["Smtp:Port"] = TestSmtpServer.FreePort().ToString() });
        await app.NewsletterAsync();
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.SignUpAsync("reader@example.test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", await response.Content.ReadAsStringAsync());
        var row = await app.WithDbAsync(db => db.OutboundMessages.SingleAsync());
        Assert.Equal(MessageKind.DoubleOptIn, row.Kind);
        Assert.NotEqual(MessageStatus.Sent, row.Status);
        var queued = await app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.DoiQueued));
        Assert.Equal(row.MessageId, queued.MessageId);
        Assert.False(await app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.DoiSent)));
    }

    private async Task<string> ConfirmPathAsync(string email)
    {
        var mail = await _app.Smtp.WaitForAsync(email, "bestätigen");
        return new Uri(Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;
    }

    private Task<SubscriberStatus> StatusAsync() => _app.WithDbAsync(db => db.Subscribers.Select(s => s.Status).SingleAsync());

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}
