using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Sign-in, roles, headers, languages and the public pages' answers to bad input.</summary>
public sealed class WebTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/newsletters/edit")]
    [InlineData("/admin/import/1")]
    [InlineData("/admin/contacts/1")]
    [InlineData("/admin/campaigns/1")]
    public async Task Every_admin_page_requires_sign_in(string path)
    {
        var response = await _app.ReaderClient().GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task An_editor_cannot_change_newsletter_settings()
    {
        await _app.StaffAsync("editor@example.test", "long enough password", Roles.Editor);
        var client = _app.ReaderClient();
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync("editor@example.test", "long enough password")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin")).StatusCode);
        var response = await client.GetAsync("/admin/newsletters/edit");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/denied", response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Sign_in_locks_the_account_after_five_failed_attempts()
    {
        await _app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        var client = _app.ReaderClient();
        for (var i = 0; i < 4; i++)
        {
            var failed = await client.SignInAsync("admin@example.test", "wrong password " + i);
            Assert.Contains("Anmeldung fehlgeschlagen", await failed.Content.ReadAsStringAsync());
        }
        await client.SignInAsync("admin@example.test", "wrong password 5");
        // Even the right password is refused while the lock lasts, with the same answer as any failure
        // (it explains the lockout without confirming the account: SignInTests).
        var locked = await client.SignInAsync("admin@example.test", "long enough password");
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        Assert.Contains("Anmeldung fehlgeschlagen", await locked.Content.ReadAsStringAsync());
        Assert.Contains("5 Fehlversuchen in Folge bleibt ein Konto 15 Minuten lang gesperrt", await locked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/admin")).StatusCode);
    }

    [Fact]
    public async Task First_run_setup_needs_the_console_code_and_closes_once_an_account_exists()
    {
        var client = _app.ReaderClient();
        var page = await client.GetStringAsync("/setup");
        var wrong = await client.PostFormAsync("/setup", page, new() { ["Code"] = "WRONGCODE123", ["Email"] = "a@example.test", ["Password"] = "long enough password" });
        Assert.Contains("Einrichtungscode stimmt nicht", await wrong.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Users.AnyAsync()));

        await _app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        var closed = await client.GetAsync("/setup");
        Assert.Equal(HttpStatusCode.Redirect, closed.StatusCode);
    }

    [Fact]
    public async Task Public_pages_send_the_security_headers_C32()
    {
        await _app.NewsletterAsync();
        var response = await _app.ReaderClient().GetAsync("/n/eilmeldungen");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.DoesNotContain("<script>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_site_styles_are_served_from_the_root_wwwroot()
    {
        var page = await _app.ReaderClient().GetStringAsync("/");
        var css = Html.Links(page).Where(l => l.Contains(".css")).ToList();
        Assert.NotEmpty(css); // one since issue 17: reader.css (ReaderCssTests)
        foreach (var href in css) Assert.Equal(HttpStatusCode.OK, (await _app.ReaderClient().GetAsync(href)).StatusCode);
    }

    [Fact]
    public async Task German_by_default_English_by_Accept_Language_or_the_switcher()
    {
        await _app.NewsletterAsync();
        var client = _app.ReaderClient();
        Assert.Contains("Ihre E-Mail-Adresse", await client.GetStringAsync("/n/eilmeldungen"));

        var english = _app.ReaderClient();
        english.DefaultRequestHeaders.AcceptLanguage.ParseAdd("en-GB,en;q=0.9");
        var page = await english.GetStringAsync("/n/eilmeldungen");
        Assert.Contains("Your email address", page);
        Assert.Contains("I would like to receive", page); // the English consent text version

        var switched = await client.GetAsync("/language/en?returnUrl=%2Fn%2Feilmeldungen");
        Assert.Equal("/n/eilmeldungen", switched.Headers.Location!.OriginalString);
        Assert.Contains("Your email address", await client.GetStringAsync("/n/eilmeldungen"));
        var offsite = await client.GetAsync("/language/de?returnUrl=https%3A%2F%2Fevil.example");
        Assert.Equal("/", offsite.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_sign_up_without_the_consent_box_shows_the_error_next_to_it_and_stores_nothing()
    {
        await _app.NewsletterAsync();
        var client = _app.ReaderClient();
        var page = await client.GetStringAsync("/n/eilmeldungen");
        var response = await client.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "anna@example.test", consent: false));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Bitte setzen Sie das Häkchen", html);
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));

        response = await client.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "not an address"));
        Assert.Contains("gültige E-Mail-Adresse", await response.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.False(await _app.WithDbAsync(db => db.OutboundMessages.AnyAsync()));
    }

    [Fact]
    public async Task A_filled_honeypot_looks_like_success_but_stores_nothing_C31()
    {
        await _app.NewsletterAsync();
        var client = _app.ReaderClient();
        var page = await client.GetStringAsync("/n/eilmeldungen");
        var form = TestData.SignUpForm(page, "bot@example.test");
        form["Input.Website"] = "http://spam.example";
        var response = await client.PostFormAsync("/n/eilmeldungen", page, form);
        Assert.Contains("Postfach", await response.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
    }

    [Fact]
    public async Task New_pending_and_confirmed_addresses_get_the_same_answer_C30()
    {
        var newsletter = await _app.NewsletterAsync();
        var client = _app.ReaderClient();
        var page = await client.GetStringAsync("/n/eilmeldungen");
        var first = await (await client.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "anna@example.test"))).Content.ReadAsStringAsync();
        var second = await (await client.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "anna@example.test"))).Content.ReadAsStringAsync();
        Assert.Equal(Strip(first), Strip(second));
        // Within the resend interval a pending address gets no second DOI mail.
        Assert.Equal(1, await _app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.DoubleOptIn)));
        Assert.Equal(2, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.SignUp)));
        Assert.Equal(newsletter.Id, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).NewsletterId);
    }

    [Fact]
    public async Task A_forged_or_unknown_invitation_shows_the_general_sign_up_and_reveals_nothing()
    {
        var newsletter = await _app.NewsletterAsync();
        var real = (await _app.InvitationsAsync(newsletter, "0160 2424240")).Single();
        // The token names its contact, then carries the HMAC: a changed id finds nobody, a changed HMAC
        // (position 30 lies in it) finds the contact but does not match its stored hash.
        string Forge(int at) => real[..at] + (real[at] == 'A' ? 'B' : 'A') + real[(at + 1)..];
        foreach (var forged in new[] { Forge(3), Forge(3 + 30), "/i/" + new string('A', 43), "/i/short" })
        {
            // A reader's browser, so an accepted link would count as opened.
            var client = _app.ReaderClient();
            client.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone)");
            var response = await client.GetAsync(forged);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("Ihre E-Mail-Adresse", html);
            Assert.DoesNotContain("2424240", html);
        }
        await _app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.Null((await _app.WithDbAsync(db => db.Contacts.SingleAsync())).OpenedAtUtc);

        // The real link counts one open, and link-preview fetchers do not count (C35).
        var preview = _app.ReaderClient();
        preview.DefaultRequestHeaders.UserAgent.ParseAdd("WhatsApp/2.23.20.0");
        await preview.GetStringAsync(real);
        await _app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.Null((await _app.WithDbAsync(db => db.Contacts.SingleAsync())).OpenedAtUtc);
        var reader = _app.ReaderClient();
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone)");
        await reader.GetStringAsync(real);
        await _app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.NotNull((await _app.WithDbAsync(db => db.Contacts.SingleAsync())).OpenedAtUtc);
    }

    [Fact]
    public async Task Forged_confirm_and_unsubscribe_links_change_nothing()
    {
        var client = _app.ReaderClient();
        var confirm = await client.GetAsync("/confirm/" + new string('A', 43));
        Assert.Equal(HttpStatusCode.NotFound, confirm.StatusCode);
        Assert.Contains("Link ungültig", await confirm.Content.ReadAsStringAsync());
        var unsubscribe = await client.PostAsync("/u/" + new string('B', 43), new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.Equal(HttpStatusCode.NotFound, unsubscribe.StatusCode);
    }

    [Fact]
    public async Task A_general_sign_up_is_not_told_that_a_phone_number_was_deleted()
    {
        await _app.NewsletterAsync();
        var reader = await _app.SignUpAsync("/n/eilmeldungen", "ohne-nummer@example.test");
        var doi = await _app.Smtp.WaitForAsync("ohne-nummer@example.test", "bestätigen");
        var confirm = new Uri(Html.Links(doi.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;
        var response = await reader.PostFormAsync(confirm, await reader.GetStringAsync(confirm), []);
        var thanks = await response.Content.ReadAsStringAsync();
        Assert.Contains("Anmeldung bestätigt", thanks);
        Assert.DoesNotContain("Telefonnummer", thanks);
    }

    [Fact]
    public async Task Healthz_reports_the_database()
    {
        var json = await _app.ReaderClient().GetStringAsync("/healthz");
        Assert.Contains("\"status\":\"Healthy\"", json);
        Assert.Contains("\"database\":\"Healthy\"", json);
    }

    // The antiforgery token differs per response; everything the reader reads must not.
    private static string Strip(string html) => System.Text.RegularExpressions.Regex.Replace(html, "value=\"[^\"]*\"", "");
}
