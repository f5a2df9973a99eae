using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 15, point 2: two-factor sign-in with an authenticator app (the test computes the codes from the shared
/// secret, RFC 6238), one-time recovery codes, "remember this browser", the lockout on wrong codes, and the admin's
/// rule that sends staff without 2FA to the set-up page.
/// </summary>
public sealed class TwoFactorTests : IAsyncLifetime
{
    private const string Admin = "admin@example.test";
    private const string Editor = "editor@example.test";
    private const string Password = "long enough password";

    // The installation's own default for the rule (admins), not the test harness's "nobody".
    private readonly AppFactory _app = new() { TwoFactorPolicy = null };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private HttpClient Browser() => _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task An_admin_without_2FA_is_sent_to_set_it_up_and_reaches_no_admin_page_until_done()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        Assert.Equal(TwoFactorRequirement.Admins, await _app.WithDbAsync(db => db.StaffSecurityPolicies.Select(p => p.RequireTwoFactor).SingleAsync()));
        var browser = Browser();
        var signIn = await browser.SignInAsync(Admin, Password);
        Assert.Equal("/admin", signIn.Headers.Location?.OriginalString);

        foreach (var path in new[] { "/admin", "/admin/privacy/subscribers", $"/admin/signup/{newsletter.Id}/qr.svg", $"/admin/contacts/{newsletter.Id}/export.csv" })
        {
            var response = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal($"/account/two-factor?returnUrl={Uri.EscapeDataString(path)}", response.Headers.Location?.OriginalString);
        }
        // Sign-out stays reachable, like the set-up page itself and static files.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/css/site.css")).StatusCode);

        var setup = await browser.GetStringAsync("/account/two-factor?returnUrl=%2Fadmin");
        Assert.Contains("vorgeschrieben", setup);
        var key = (await _app.WithDbAsync(db => db.UserTokens.Where(t => t.Name == "AuthenticatorKey").Select(t => t.Value).SingleAsync()))!;
        Assert.Contains(string.Join(' ', key.Chunk(4).Select(c => new string(c))), setup); // typed by hand in groups
        Assert.Contains("<svg", setup);
        Assert.DoesNotContain("<img", setup); // the QR code is drawn here, not fetched from a service

        var wrong = await browser.PostFormAsync("/account/two-factor?handler=Enable&returnUrl=%2Fadmin", setup, new() { ["Code"] = Totp.WrongCode(key) });
        Assert.Contains("Der Code stimmt nicht", await wrong.Content.ReadAsStringAsync());
        Assert.False((await _app.StaffUserAsync(Admin)).TwoFactorEnabled);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/admin")).StatusCode);

        var done = await (await browser.PostFormAsync("/account/two-factor?handler=Enable&returnUrl=%2Fadmin", setup, new() { ["Code"] = Totp.Code(key) }))
            .Content.ReadAsStringAsync();
        var codes = RecoveryCodesShown(done);
        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct().Count());
        Assert.Contains("nur jetzt angezeigt", done);
        Assert.Contains("href=\"/admin\"", done);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode); // still signed in, now let through
        // Shown once: the page shows how many are left, never the codes again.
        var later = await browser.GetStringAsync("/account/two-factor");
        Assert.DoesNotContain(codes[0], later);
        Assert.Contains("Unbenutzte Wiederherstellungscodes: 10", later);
    }

    [Fact]
    public async Task The_QR_code_holds_the_otpauth_address_with_the_key()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        await using var scope = _app.Services.CreateAsyncScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>().FindByEmailAsync(Admin))!;
        var setup = await scope.ServiceProvider.GetRequiredService<StaffTwoFactor>().SetupAsync(user);
        Assert.Equal($"otpauth://totp/NewsletterMigrator:admin%40example.test?secret={setup.Key}&issuer=NewsletterMigrator&digits=6", setup.Uri);
        Assert.StartsWith("<svg", setup.QrSvg.TrimStart());
    }

    [Fact]
    public async Task The_rule_applies_to_admins_editors_or_nobody_as_the_admin_chose_it_on_the_security_page()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        await _app.StaffAsync(Editor, Password, Roles.Editor);
        await _app.EnableTwoFactorAsync(Admin);
        var editor = Browser();
        await editor.SignInAsync(Editor, Password);
        Assert.Equal(HttpStatusCode.OK, (await editor.GetAsync("/admin")).StatusCode); // "admins" leaves editors alone
        Assert.Equal(HttpStatusCode.Redirect, (await editor.GetAsync("/admin/security")).StatusCode); // and only admins set it
        Assert.Contains("/account/denied", (await editor.GetAsync("/admin/security")).Headers.Location?.OriginalString);

        var admin = Browser();
        await admin.SignInAsync(Admin, Password);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.EnterCodeAsync(Totp.Code((await KeyAsync(Admin))))).StatusCode);
        var page = await admin.GetStringAsync("/admin/security");
        Assert.Contains("value=\"Admins\" checked", page);

        // Nonsense changes nothing.
        var odd = await admin.PostFormAsync("/admin/security", page, new() { ["RequireTwoFactor"] = "99" });
        Assert.Contains("Bitte wählen Sie eine der Möglichkeiten", await odd.Content.ReadAsStringAsync());
        Assert.Equal(TwoFactorRequirement.Admins, await RuleAsync());

        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync("/admin/security", page, new() { ["RequireTwoFactor"] = "AllStaff" })).StatusCode);
        Assert.Equal(TwoFactorRequirement.AllStaff, await RuleAsync());
        Assert.True(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == Admin && a.Details.Contains("AllStaff (was Admins)"))));
        // The editor's open session is held at the set-up page from the next request on.
        var held = await editor.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, held.StatusCode);
        Assert.StartsWith("/account/two-factor", held.Headers.Location?.OriginalString);

        await admin.PostFormAsync("/admin/security", page, new() { ["RequireTwoFactor"] = "Nobody" });
        Assert.Equal(HttpStatusCode.OK, (await editor.GetAsync("/admin")).StatusCode);
    }

    [Fact]
    public async Task After_the_password_sign_in_needs_the_current_code_and_the_password_alone_opens_nothing()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, _) = await _app.EnableTwoFactorAsync(Admin);
        var browser = Browser();
        var password = await browser.SignInAsync(Admin, Password);
        Assert.Equal("/account/login/code?returnUrl=%2Fadmin", password.Headers.Location?.OriginalString);
        Assert.Contains("/account/login", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString); // not signed in yet

        var wrong = await browser.EnterCodeAsync(Totp.WrongCode(key));
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Der Code stimmt nicht", await wrong.Content.ReadAsStringAsync());

        var right = await browser.EnterCodeAsync(Totp.Code(key));
        Assert.Equal("/admin", right.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode);

        // The code page without a password first has nobody to sign in.
        var stranger = Browser();
        Assert.Contains("/account/login", (await stranger.GetAsync("/account/login/code")).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_recovery_code_signs_in_once()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (_, codes) = await _app.EnableTwoFactorAsync(Admin);

        var first = Browser();
        await first.SignInAsync(Admin, Password);
        Assert.Equal("/admin", (await first.EnterRecoveryCodeAsync(codes[3])).Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/admin")).StatusCode);
        Assert.Contains("Unbenutzte Wiederherstellungscodes: 9", await first.GetStringAsync("/account/two-factor"));

        var second = Browser();
        await second.SignInAsync(Admin, Password);
        var again = await second.EnterRecoveryCodeAsync(codes[3]);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("Anmeldung fehlgeschlagen", await again.Content.ReadAsStringAsync());
        Assert.Contains("/account/login", (await second.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Equal(1, (await _app.StaffUserAsync(Admin)).AccessFailedCount); // a wrong recovery code counts once, like a wrong code
    }

    [Fact]
    public async Task A_remembered_browser_skips_the_code_for_30_days_and_another_browser_does_not()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, _) = await _app.EnableTwoFactorAsync(Admin);
        var mine = Browser();
        await mine.SignInAsync(Admin, Password);
        var remembered = await mine.EnterCodeAsync(Totp.Code(key), rememberBrowser: true);
        var cookie = remembered.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("nm.2fa.remember=", StringComparison.Ordinal));
        var expires = DateTimeOffset.Parse(cookie.Split("; ").Single(p => p.StartsWith("expires=", StringComparison.OrdinalIgnoreCase))["expires=".Length..]);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(29.9), TimeSpan.FromDays(30.1));

        await SignOutAsync(mine);
        Assert.Equal("/admin", (await mine.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await mine.GetAsync("/admin")).StatusCode);

        var other = Browser();
        Assert.StartsWith("/account/login/code", (await other.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
        // Unticked, nothing is remembered.
        await other.EnterCodeAsync(Totp.Code(key));
        await SignOutAsync(other);
        Assert.StartsWith("/account/login/code", (await other.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Five_wrong_codes_lock_the_account_and_then_the_right_code_is_refused_too()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, _) = await _app.EnableTwoFactorAsync(Admin);
        var browser = Browser();
        await browser.SignInAsync(Admin, Password);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var wrong = await (await browser.EnterCodeAsync(Totp.WrongCode(key))).Content.ReadAsStringAsync();
            Assert.Contains("Nach 5 Fehlversuchen in Folge bleibt ein Konto 15 Minuten lang gesperrt", wrong);
        }
        var user = await _app.StaffUserAsync(Admin);
        Assert.True(user.LockoutEnd > DateTimeOffset.UtcNow.AddMinutes(14), "five wrong codes lock the account for 15 minutes");

        var right = await browser.EnterCodeAsync(Totp.Code(key));
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("Anmeldung fehlgeschlagen", await right.Content.ReadAsStringAsync());
        // Nor does starting over with the right password and a recovery code get round it.
        var fresh = Browser();
        await fresh.SignInAsync(Admin, Password);
        Assert.Contains("/account/login", (await fresh.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Contains("/account/login", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_locked_account_cannot_sign_in_with_a_recovery_code()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, codes) = await _app.EnableTwoFactorAsync(Admin);
        var browser = Browser();
        await browser.SignInAsync(Admin, Password);
        for (var attempt = 0; attempt < 5; attempt++) await browser.EnterCodeAsync(Totp.WrongCode(key));
        var refused = await browser.EnterRecoveryCodeAsync(codes[0]);
        Assert.Contains("Anmeldung fehlgeschlagen", await refused.Content.ReadAsStringAsync());
        Assert.Contains("/account/login", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString);
        await using var scope = _app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        Assert.Equal(10, await users.CountRecoveryCodesAsync((await users.FindByEmailAsync(Admin))!)); // none was used up
    }

    [Fact]
    public async Task Switching_2FA_off_needs_the_password_or_a_code_and_kills_the_old_key()
    {
        await _app.StaffAsync(Editor, Password, Roles.Editor);
        var (key, _) = await _app.EnableTwoFactorAsync(Editor);
        var browser = Browser();
        await browser.SignInAsync(Editor, Password);
        await browser.EnterCodeAsync(Totp.Code(key));
        var page = await browser.GetStringAsync("/account/two-factor");

        var wrong = await browser.PostFormAsync("/account/two-factor?handler=Disable", page, new() { ["Password"] = "not my password" });
        Assert.Contains("Nichts wurde geändert", await wrong.Content.ReadAsStringAsync());
        Assert.True((await _app.StaffUserAsync(Editor)).TwoFactorEnabled);

        var off = await browser.PostFormAsync("/account/two-factor?handler=Disable", page, new() { ["Code"] = Totp.Code(key) });
        Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
        Assert.False((await _app.StaffUserAsync(Editor)).TwoFactorEnabled);
        Assert.NotEqual(key, await KeyAsync(Editor));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode); // this browser stays signed in
        Assert.True(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == Editor && a.Details == "two-factor sign-in switched off")));
    }

    private async Task<string> KeyAsync(string email) =>
        (await _app.WithDbAsync(async db =>
        {
            var id = await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
            return await db.UserTokens.Where(t => t.UserId == id && t.Name == "AuthenticatorKey").Select(t => t.Value).SingleAsync();
        }))!;

    private static List<string> RecoveryCodesShown(string html)
    {
        var list = Regex.Match(html, "<ul class=\"[^\"]*recovery-codes\">(.*?)</ul>", RegexOptions.Singleline);
        return [.. Regex.Matches(list.Groups[1].Value, "<li>([^<]+)</li>").Select(m => m.Groups[1].Value)];
    }

    private Task<TwoFactorRequirement> RuleAsync() => _app.WithDbAsync(db => db.StaffSecurityPolicies.Select(p => p.RequireTwoFactor).SingleAsync());

    private static async Task SignOutAsync(HttpClient browser)
    {
        var page = await browser.GetStringAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostFormAsync("/account/logout", page, [])).StatusCode);
        Assert.Contains("/account/login", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString);
    }
}
