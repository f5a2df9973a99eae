using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Pages.Join;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Embed;

/// <summary>
/// Issue 17, point 4: the sign-up box a portal frames under its articles. Only the listed portals may frame it, it
/// sets no cookie, its form is protected by the Origin and a signed token instead (C32), and a sign-up from it passes
/// every rule of the general page (C30, C31, C42) and is recorded with the page "embed" (C7).
/// </summary>
public sealed class EmbedPageTests : IAsyncLifetime
{
    private const string Path = "/n/eilmeldungen/embed";

    private readonly AppFactory _app = new(settings: new()
    {
        ["Consent:SignUpMinimumDuration"] = "00:00:00.050",
        ["Consent:SignUpsPerAddressPerHour"] = "2",
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Only_the_listed_portals_may_frame_the_embed_page_and_no_other_page_may_be_framed_at_all_C32()
    {
        await _app.NewsletterAsync();
        await _app.NewsletterAsync("lokales");
        await _app.SetEmbedOriginsAsync("eilmeldungen", $"{EmbedSteps.Portal}\n{EmbedSteps.MobilePortal}");
        var client = _app.ReaderClient();

        var embed = await client.GetAsync(Path);
        Assert.Equal(HttpStatusCode.OK, embed.StatusCode);
        // Everything else in the policy stays as strict as on every page.
        Assert.Equal(SecurityHeaders.Policy.Replace("frame-ancestors 'none'", $"frame-ancestors {EmbedSteps.Portal} {EmbedSteps.MobilePortal}"), Csp(embed));
        Assert.False(embed.Headers.Contains("X-Frame-Options"), "X-Frame-Options would forbid the portal's frame in older browsers");

        // Another newsletter's embed page lists no portal: nobody may frame it.
        var other = await client.GetAsync("/n/lokales/embed");
        Assert.Contains("frame-ancestors 'none'", Csp(other));

        foreach (var path in new[] { "/n/eilmeldungen", "/n/eilmeldungen/impressum", "/account/login", "/confirm/" + new string('A', 43), "/n/unbekannt/embed" })
        {
            var response = await client.GetAsync(path);
            Assert.Contains("frame-ancestors 'none'", Csp(response));
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        }
    }

    [Fact]
    public async Task The_embed_page_sets_no_cookie_and_speaks_the_language_of_its_address_not_of_the_browser()
    {
        await _app.NewsletterAsync();
        // A browser that asks for English and carries a language cookie: the box still speaks the newsletter's default.
        var client = _app.ReaderClient("en");
        client.DefaultRequestHeaders.Add("Cookie", ".AspNetCore.Culture=c%3Den%7Cuic%3Den");
        var german = await client.GetAsync(Path);
        Assert.False(german.Headers.Contains("Set-Cookie"), "a cookie in a third-party frame is blocked; the page must need none");
        var html = await german.Content.ReadAsStringAsync();
        Assert.Contains("<html lang=\"de\"", html);
        Assert.Contains("Ich bin mindestens 16 Jahre alt.", html);
        Assert.DoesNotContain("__RequestVerificationToken", html);
        Assert.DoesNotContain("<script>", html); // the height script comes from a file (CSP)
        Assert.Contains("src=\"/js/embed-frame.js?v=", html);
        // The language switch stays in the frame and needs no cookie.
        Assert.Contains("href=\"/n/eilmeldungen/embed?lang=en\"", html);

        var english = await client.GetAsync(Path + "?lang=en");
        Assert.False(english.Headers.Contains("Set-Cookie"));
        Assert.Contains("I am at least 16 years old.", await english.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_embed_page_shows_the_consent_statement_the_Art_13_information_the_objection_note_the_age_box_and_the_legal_links_C2_C3_C4_C6_C39()
    {
        await _app.NewsletterAsync();
        var html = WebUtility.HtmlDecode(await _app.ReaderClient().GetStringAsync(Path));
        var consent = await _app.WithDbAsync(db => db.ConsentTexts.SingleAsync(c => c.Language == "de"));
        Assert.Contains(consent.Statement, html);
        Assert.Matches("<input type=\"checkbox\"[^>]*id=\"Input_Consent\"(?![^>]*checked)", html); // unticked (C2)
        Assert.Contains("Widerspruchsrecht", html);
        Assert.Contains(consent.ObjectionNote, html);
        Assert.Contains(consent.PrivacyInformation, html);
        Assert.Contains("Ich bin mindestens 16 Jahre alt.", html);
        // The legal pages open outside the frame.
        Assert.Contains($"href=\"{LegalIdentity.PrivacyUrl}\" target=\"_blank\" rel=\"noopener\">Datenschutz<", html);
        Assert.Contains("href=\"/n/eilmeldungen/impressum\" target=\"_blank\" rel=\"noopener\">Impressum<", html);
    }

    [Fact]
    public async Task A_sign_up_in_the_frame_creates_a_pending_subscriber_a_ledger_entry_for_the_page_embed_and_a_DOI_mail_C7()
    {
        var newsletter = await _app.NewsletterAsync();
        var response = await _app.EmbedSignUpAsync("rahmen@example.test");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", await response.Content.ReadAsStringAsync());
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal((SubscriberStatus.Pending, "rahmen@example.test", newsletter.Id), (subscriber.Status, subscriber.Email, subscriber.NewsletterId));
        var signUp = await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        Assert.Equal("embed", signUp.Page);
        Assert.Equal(true, signUp.AgeConfirmed);
        Assert.Equal(MessageKind.DoubleOptIn, (await _app.WithDbAsync(db => db.OutboundMessages.SingleAsync())).Kind);
        var mail = await _app.Smtp.WaitForAsync("rahmen@example.test", "bestätigen");
        Assert.Contains("/confirm/", mail.HtmlBody);
    }

    public static TheoryData<string> Refusals => ["foreign origin", "no origin", "origin null", "no token", "forged token", "expired token", "another newsletter's token"];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_POST_that_is_not_from_this_newsletters_recent_embed_form_changes_nothing_and_says_so_C32(string refusal)
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.NewsletterAsync("lokales");
        var reader = _app.ReaderClient();
        var page = await reader.GetStringAsync(Path);
        var fields = EmbedSteps.EmbedForm(page, "opfer@example.test");
        var origin = _app.PublicOrigin();
        var tokens = _app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(EmbedForm.Purpose).ToTimeLimitedDataProtector();
        switch (refusal)
        {
            case "foreign origin": origin = EmbedSteps.Portal; break; // a portal page posting a form of its own
            case "no origin": origin = null; break;
            case "origin null": origin = "null"; break;
            case "no token": fields.Remove(EmbedForm.FieldName); break;
            case "forged token": fields[EmbedForm.FieldName] = fields[EmbedForm.FieldName][..^4] + "AAAA"; break;
            // A genuine token whose two hours have passed.
            case "expired token": fields[EmbedForm.FieldName] = tokens.Protect(newsletter.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddSeconds(-1)); break;
            case "another newsletter's token": fields[EmbedForm.FieldName] = Html.InputValue(await reader.GetStringAsync("/n/lokales/embed"), EmbedForm.FieldName)!; break;
        }

        // The forged POST comes ticked and filled in: the victim's address, both boxes, the honeypot (C2: a box
        // the reader did not tick must not come back ticked, nor an address they did not type).
        fields["Input.Website"] = "https://spam.example";

        var response = await reader.PostEmbedAsync(Path, fields, origin);

        var foreign = refusal.Contains("origin");
        Assert.Equal(foreign ? HttpStatusCode.Forbidden : HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(foreign ? "Diese Anmeldung kam nicht aus unserem Anmeldeformular" : "Das Formular war zu lange geöffnet", html);
        Assert.Contains("es wurde nichts gespeichert", html);
        // A fresh form to send again, still framed as the embed page.
        Assert.NotNull(Html.InputValue(html, EmbedForm.FieldName));
        Assert.DoesNotContain("Bitte sehen Sie in Ihr Postfach", html);
        // Nothing of the refused POST is shown again: both boxes unticked, address and honeypot empty.
        Assert.Equal(2, Regex.Matches(html, "<input type=\"checkbox\"").Count);
        Assert.DoesNotMatch("<input type=\"checkbox\"[^>]*checked", html);
        Assert.Equal("", Html.InputValue(html, "Input.Email") ?? "");
        Assert.Equal("", Html.InputValue(html, "Input.Website") ?? "");
        Assert.DoesNotContain("opfer@example.test", html);
        Assert.DoesNotContain("spam.example", html);
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.False(await _app.WithDbAsync(db => db.ConsentEvents.AnyAsync()));
        Assert.False(await _app.WithDbAsync(db => db.OutboundMessages.AnyAsync()));
    }

    [Fact]
    public async Task The_answer_in_the_frame_names_the_sender_and_subject_of_the_DOI_mail_in_German_and_English()
    {
        await _app.NewsletterAsync();
        var german = await (await _app.EmbedSignUpAsync("rahmen@example.test")).Content.ReadAsStringAsync();
        var mail = await _app.Smtp.WaitForAsync("rahmen@example.test", "bestätigen");
        var from = mail.From.Mailboxes.Single();
        var text = AnswerText(german);
        Assert.Contains($"Wir haben Ihnen eine E-Mail von {from.Name} ({from.Address}) geschickt, Betreff „{mail.Subject}“.", text);
        Assert.Contains("Spam-Ordner", text);
        Assert.DoesNotContain("{", text);

        var english = await (await _app.EmbedSignUpAsync("frame@example.test", language: "en")).Content.ReadAsStringAsync();
        var englishMail = await _app.Smtp.WaitForAsync("frame@example.test", "confirm");
        var englishFrom = englishMail.From.Mailboxes.Single();
        var englishText = AnswerText(english);
        Assert.Contains($"We have sent you an email from {englishFrom.Name} ({englishFrom.Address}), subject \"{englishMail.Subject}\".", englishText);
        Assert.Contains("spam folder", englishText);
        Assert.DoesNotContain("{", englishText);
    }

    [Fact]
    public async Task The_answer_in_the_frame_is_the_same_for_a_new_and_a_confirmed_address_C30()
    {
        await _app.NewsletterAsync();
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", "bestaetigt@example.test");

        var confirmed = await (await _app.EmbedSignUpAsync("bestaetigt@example.test")).Content.ReadAsStringAsync();
        var fresh = await (await _app.EmbedSignUpAsync("ganz-neu@example.test")).Content.ReadAsStringAsync();

        Assert.Contains("Tagblatt (newsletter@tagblatt.example.test)", AnswerText(fresh));
        Assert.Equal(Answer(fresh), Answer(confirmed));
    }

    [Fact]
    public async Task The_honeypot_answers_as_if_it_worked_and_stores_nothing_C31()
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        var page = await reader.GetStringAsync(Path);
        var fields = EmbedSteps.EmbedForm(page, "bot@example.test");
        fields["Input.Website"] = "https://spam.example";
        var response = await reader.PostEmbedAsync(Path, fields, _app.PublicOrigin());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", await response.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.False(await _app.WithDbAsync(db => db.OutboundMessages.AnyAsync()));
    }

    [Fact]
    public async Task The_per_address_limit_and_the_one_DOI_per_interval_apply_and_the_limit_is_answered_inside_the_frame_C30_C31_C42()
    {
        await _app.NewsletterAsync();
        await _app.SetEmbedOriginsAsync("eilmeldungen", EmbedSteps.Portal);
        var first = await _app.EmbedSignUpAsync("leser@example.test");
        var second = await _app.EmbedSignUpAsync("leser@example.test");
        // C30: the second answer is the same, and no second DOI mail within the interval.
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", await second.Content.ReadAsStringAsync());
        Assert.Equal(1, await _app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.DoubleOptIn)));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // The limit is 2 per address and hour here: the third is refused, readable in the portal's frame.
        var third = await _app.EmbedSignUpAsync("leser@example.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("Gerade zu viele Anmeldungen", await third.Content.ReadAsStringAsync());
        Assert.Contains($"frame-ancestors {EmbedSteps.Portal};", Csp(third));
        Assert.Equal(2, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.SignUp)));
    }

    [Fact]
    public async Task Without_the_consent_box_the_frame_shows_the_error_and_a_fresh_form_and_stores_nothing_C2()
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        var page = await reader.GetStringAsync(Path);
        var response = await reader.PostEmbedAsync(Path, EmbedSteps.EmbedForm(page, "leser@example.test", consent: false), _app.PublicOrigin());
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Bitte setzen Sie das Häkchen", html);
        // The reader can tick the box and send again: the form carries a token that still works.
        var again = await reader.PostEmbedAsync(Path, EmbedSteps.EmbedForm(html, "leser@example.test"), _app.PublicOrigin());
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", await again.Content.ReadAsStringAsync());
        Assert.Equal(1, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.SignUp)));
    }

    [Fact]
    public async Task A_newsletter_that_is_not_open_shows_the_not_open_text_in_the_frame_and_takes_no_sign_up_C38()
    {
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<Newsletters.NewsletterService>().CreateAsync(new Newsletter
            {
                Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            }, "test");
        }
        var html = await _app.ReaderClient().GetStringAsync(Path);
        Assert.Contains("startet in Kürze", html);
        Assert.DoesNotContain("<form", html);
    }

    [Fact]
    public async Task The_per_IP_limit_is_answered_inside_the_portals_frame_too_C31()
    {
        await using var app = new AppFactory(settings: new() { ["Consent:SignUpsPerIpPerHour"] = "1", ["Consent:SignUpMinimumDuration"] = "00:00:00" });
        await app.NewsletterAsync();
        await app.SetEmbedOriginsAsync("eilmeldungen", EmbedSteps.Portal);
        Assert.Equal(HttpStatusCode.OK, (await app.EmbedSignUpAsync("eins@example.test")).StatusCode);

        // The limiter answers before the page runs; the error page stands in for the embed page and may be framed by its portal.
        var limited = await app.EmbedSignUpAsync("zwei@example.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("Gerade zu viele Anmeldungen", await limited.Content.ReadAsStringAsync());
        Assert.Contains($"frame-ancestors {EmbedSteps.Portal};", Csp(limited));
        Assert.False(limited.Headers.Contains("X-Frame-Options"));
    }

    [Theory]
    [InlineData("en", "de", "de", "Too many sign-ups right now")]
    [InlineData("de", "en", "en", "Gerade zu viele Anmeldungen")]
    [InlineData(null, "en", "de", "Too many sign-ups right now")] // no ?lang=: the newsletter's default, not the browser's
    [InlineData(null, "de", "en", "Gerade zu viele Anmeldungen")]
    public async Task The_per_IP_limit_in_the_frame_speaks_the_language_of_the_embed_address_not_of_the_browser(
        string? lang, string defaultLanguage, string browser, string expected)
    {
        await using var app = new AppFactory(settings: new() { ["Consent:SignUpsPerIpPerHour"] = "1", ["Consent:SignUpMinimumDuration"] = "00:00:00" });
        await app.NewsletterAsync();
        await app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.DefaultLanguage, defaultLanguage)));
        Assert.Equal(HttpStatusCode.OK, (await app.EmbedSignUpAsync("eins@example.test", language: lang, acceptLanguage: browser)).StatusCode);

        // The limiter answers before the page runs, and the error page it re-executes has lost the embed's query.
        var limited = await app.EmbedSignUpAsync("zwei@example.test", language: lang, acceptLanguage: browser);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var html = await limited.Content.ReadAsStringAsync();
        Assert.Contains(expected, html);
        Assert.Contains($"<html lang=\"{(expected.StartsWith("Too") ? "en" : "de")}\"", html);
        Assert.False(limited.Headers.Contains("Set-Cookie"));
    }

    /// <summary>The answer's section as the reader reads it in the frame.</summary>
    private static string Answer(string html) =>
        Assert.Single(Regex.Matches(html, "<section class=\"card\" aria-live=\"polite\">.*?</section>", RegexOptions.Singleline)).Value;

    private static string AnswerText(string html) => WebUtility.HtmlDecode(Regex.Replace(Answer(html), "<[^>]+>", " "));

    private static string Csp(HttpResponseMessage response) => Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
}
