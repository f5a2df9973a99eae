using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Common;
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
    // SQLite: one test reads the database file itself for the secrets.
    private readonly AppFactory _app = new(provider: DatabaseProvider.Sqlite) { TwoFactorPolicy = null };

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
        // Static files stay reachable, like the set-up page itself and sign-out (A_member_held_at_the_set_up_page_can_sign_out).
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/css/site.css")).StatusCode);

        var setup = await browser.GetStringAsync("/account/two-factor?returnUrl=%2Fadmin");
        Assert.Contains("vorgeschrieben", setup);
        var key = await KeyAsync(Admin);
        Assert.Contains(string.Join(' ', key.Chunk(4).Select(c => new string(c))), setup); // typed by hand in groups
        Assert.Contains("<svg", setup);
        Assert.DoesNotContain("<img", setup); // the QR code is drawn here, not fetched from a service

        var wrong = await browser.PostFormAsync("/account/two-factor?handler=Enable&returnUrl=%2Fadmin", setup, new() { ["Code"] = Totp.WrongCode(key) });
        Assert.Contains("Der Code stimmt nicht", await wrong.Content.ReadAsStringAsync());
        Assert.False((await _app.StaffUserAsync(Admin)).TwoFactorEnabled);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/admin")).StatusCode);

        var done = await (await browser.PostFormAsync("/account/two-factor?handler=Enable&returnUrl=%2Fadmin", setup, new() { ["Code"] = Totp.Next(key) }))
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
    public async Task The_first_code_posted_several_times_at_once_shows_the_recovery_codes_once_and_no_error_page()
    {
        await _app.NewsletterAsync();
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var browser = Browser();
        await browser.SignInAsync(Admin, Password);
        var setup = await browser.GetStringAsync("/account/two-factor");
        var code = Totp.Next(await KeyAsync(Admin));

        // A double-click: the same valid code in concurrent requests. Before, both inserted the "last step" row and the loser was a 500.
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            browser.PostFormAsync("/account/two-factor?handler=Enable", setup, new() { ["Code"] = code })));
        var pages = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.DoesNotContain(responses, r => r.StatusCode == HttpStatusCode.InternalServerError);
        Assert.Single(pages, p => RecoveryCodesShown(p).Count == RecoveryCodeCount);
        foreach (var other in responses.Where((_, i) => RecoveryCodesShown(pages[i]).Count == 0))
        {
            // The page, which says 2FA is on; or, for a request checked after the winner's new security stamp, the sign-in
            // (the member signs in again and finds 2FA on). Under load a loser can also be answered by the page itself
            // (the race lost at the save): never an error page.
            if (other.Headers.Location is { } location)
                Assert.Matches("^(/account/two-factor|http://localhost/account/login\\?ReturnUrl=.*)$", location.OriginalString);
            else
                Assert.True((int)other.StatusCode < 500 && !pages[Array.IndexOf(responses, other)].Contains("Etwas ist schiefgegangen"),
                    $"a lost race answered {(int)other.StatusCode}");
        }
        // Not asserted: under load a loser can still say "Der Code stimmt nicht" (its code was used a moment before by the
        // winner) although 2FA is on; reloading the page shows it on. Known, and named in the issue 15 note.
        Assert.True((await _app.StaffUserAsync(Admin)).TwoFactorEnabled);
    }

    private const int RecoveryCodeCount = StaffTwoFactor.RecoveryCodeCount;

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
        Assert.Equal(HttpStatusCode.Redirect, (await admin.EnterCodeAsync(Totp.Next(await KeyAsync(Admin)))).StatusCode);
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

        var right = await browser.EnterCodeAsync(Totp.Next(key));
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
        // Signing in with a recovery code is audited with how many are left, never the code.
        var audit = await _app.AuditAsync("account");
        Assert.Contains("a***@example.test signed in with a recovery code, 9 left", audit);
        Assert.DoesNotContain(audit, d => d.Contains(codes[3]) || d.Contains(codes[3].Replace("-", "")));
    }

    [Fact]
    public async Task A_recovery_code_typed_naturally_in_lower_case_with_a_space_or_without_the_dash_signs_in()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (_, codes) = await _app.EnableTwoFactorAsync(Admin);
        Assert.Matches("^[A-Z0-9]{5}-[A-Z0-9]{5}$", codes[0]);

        var first = Browser();
        await first.SignInAsync(Admin, Password);
        Assert.Equal("/admin", (await first.EnterRecoveryCodeAsync(codes[0].ToLowerInvariant().Replace('-', ' '))).Headers.Location?.OriginalString);
        var second = Browser();
        await second.SignInAsync(Admin, Password);
        Assert.Equal("/admin", (await second.EnterRecoveryCodeAsync($" {codes[1].Replace("-", "")} ")).Headers.Location?.OriginalString);
        Assert.Equal(0, (await _app.StaffUserAsync(Admin)).AccessFailedCount);
        Assert.Contains("Unbenutzte Wiederherstellungscodes: 8", await second.GetStringAsync("/account/two-factor"));
    }

    [Fact]
    public async Task A_code_signs_in_once_a_second_browser_with_the_same_code_is_refused()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, _) = await _app.EnableTwoFactorAsync(Admin);
        var code = Totp.Next(key);
        var member = Browser();
        await member.SignInAsync(Admin, Password);
        Assert.Equal("/admin", (await member.EnterCodeAsync(code)).Headers.Location?.OriginalString);

        // Someone who saw the code over the member's shoulder, and knows the password, within the same half minute.
        var onlooker = Browser();
        await onlooker.SignInAsync(Admin, Password);
        var replayed = await onlooker.EnterCodeAsync(code);
        Assert.Equal(HttpStatusCode.OK, replayed.StatusCode);
        Assert.Contains("Der Code stimmt nicht, ist abgelaufen oder schon benutzt", await replayed.Content.ReadAsStringAsync());
        // Nor an earlier code, which the window for a slow phone clock would still take.
        var earlier = await onlooker.EnterCodeAsync(Totp.Code(key, DateTimeOffset.UtcNow.AddSeconds(-30)));
        Assert.Contains("Der Code stimmt nicht", await earlier.Content.ReadAsStringAsync());
        Assert.Contains("/account/login", (await onlooker.GetAsync("/admin")).Headers.Location?.OriginalString);

        // The used code does not switch 2FA off either.
        var page = await member.GetStringAsync("/account/two-factor");
        var off = await member.PostFormAsync("/account/two-factor?handler=Disable", page, new() { ["Code"] = code });
        Assert.Contains("Nichts wurde geändert", await off.Content.ReadAsStringAsync());
        Assert.True((await _app.StaffUserAsync(Admin)).TwoFactorEnabled);
        // The app's next code works, once.
        Assert.Equal("/admin", (await onlooker.EnterCodeAsync(Totp.Next(key))).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task New_recovery_codes_need_the_password_or_a_current_code_and_a_wrong_one_counts()
    {
        await _app.StaffAsync(Editor, Password, Roles.Editor);
        var (key, old) = await _app.EnableTwoFactorAsync(Editor);
        var browser = Browser();
        await browser.SignInAsync(Editor, Password);
        await browser.EnterCodeAsync(Totp.Next(key));
        var page = await browser.GetStringAsync("/account/two-factor");

        foreach (var proof in new Dictionary<string, string>[] { [], new() { ["Password"] = "not my password" } })
        {
            var refused = await (await browser.PostFormAsync("/account/two-factor?handler=RecoveryCodes", page, proof)).Content.ReadAsStringAsync();
            Assert.Contains("Passwort oder Code stimmt nicht. Nichts wurde geändert.", refused);
            Assert.Empty(RecoveryCodesShown(refused));
        }
        Assert.Equal(2, (await _app.StaffUserAsync(Editor)).AccessFailedCount); // like a wrong sign-in
        Assert.Contains("Unbenutzte Wiederherstellungscodes: 10", await browser.GetStringAsync("/account/two-factor"));

        var renewed = await (await browser.PostFormAsync("/account/two-factor?handler=RecoveryCodes", page, new() { ["Password"] = Password })).Content.ReadAsStringAsync();
        var codes = RecoveryCodesShown(renewed);
        Assert.Equal(10, codes.Count);
        Assert.Empty(codes.Intersect(old));
        var other = Browser();
        await other.SignInAsync(Editor, Password);
        Assert.Contains("Anmeldung fehlgeschlagen", await (await other.EnterRecoveryCodeAsync(old[0])).Content.ReadAsStringAsync());
        Assert.Equal("/admin", (await other.EnterRecoveryCodeAsync(codes[0])).Headers.Location?.OriginalString);

        // A current code from the app is proof too.
        var withCode = await (await browser.PostFormAsync("/account/two-factor?handler=RecoveryCodes", page, new() { ["Code"] = Totp.Next(key) })).Content.ReadAsStringAsync();
        Assert.Equal(10, RecoveryCodesShown(withCode).Count);
    }

    [Fact]
    public async Task A_browser_past_the_password_step_is_sent_back_to_sign_in_after_a_password_change()
    {
        const string NewPassword = "a new and long enough password";
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, codes) = await _app.EnableTwoFactorAsync(Admin);
        // Someone who has the old password waits at the code step, e.g. for the member to read a code out.
        var intruder = Browser();
        await intruder.SignInAsync(Admin, Password);
        var codePage = await intruder.GetStringAsync("/account/login/code");
        var recoveryPage = await intruder.GetStringAsync("/account/login/recovery");

        var member = Browser();
        await member.SignInAsync(Admin, Password);
        await member.EnterCodeAsync(Totp.Next(key));
        var page = await member.GetStringAsync("/account/password");
        var changed = await member.PostFormAsync("/account/password", page,
            new() { ["CurrentPassword"] = Password, ["NewPassword"] = NewPassword, ["ConfirmPassword"] = NewPassword });
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);

        var code = await intruder.PostFormAsync("/account/login/code", codePage, new() { ["Code"] = Totp.Next(key) });
        Assert.Equal("/account/login", code.Headers.Location?.OriginalString);
        var recovery = await intruder.PostFormAsync("/account/login/recovery", recoveryPage, new() { ["RecoveryCode"] = codes[0] });
        Assert.Equal("/account/login", recovery.Headers.Location?.OriginalString);
        Assert.Contains("/account/login", (await intruder.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Equal(10, await RecoveryCodesLeftAsync(Admin));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_colleague_deactivated_between_password_and_code_is_refused(bool recoveryCode)
    {
        await _app.StaffAsync(Editor, Password, Roles.Editor);
        var (key, codes) = await _app.EnableTwoFactorAsync(Editor);
        var browser = Browser();
        await browser.SignInAsync(Editor, Password);
        var path = recoveryCode ? "/account/login/recovery" : "/account/login/code";
        var page = await browser.GetStringAsync(path);
        // Deactivated without a new security stamp (the admin's page renews it too): the sign-in manager's own rule.
        await _app.WithDbAsync(db => db.Users.Where(u => u.Email == Editor).ExecuteUpdateAsync(u => u.SetProperty(x => x.DeactivatedAtUtc, DateTime.UtcNow)));

        var response = await browser.PostFormAsync(path, page, recoveryCode ? new() { ["RecoveryCode"] = codes[0] } : new() { ["Code"] = Totp.Next(key) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Anmeldung fehlgeschlagen", await response.Content.ReadAsStringAsync());
        Assert.Contains("/account/login", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Equal(10, await RecoveryCodesLeftAsync(Editor)); // none used up
    }

    [Fact]
    public async Task The_database_file_holds_neither_the_authenticator_key_nor_the_recovery_codes()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, codes) = await _app.EnableTwoFactorAsync(Admin);
        var files = Directory.GetFiles(_app.DataDirectory, "test.db*");
        Assert.Contains(files, f => f.EndsWith("test.db", StringComparison.Ordinal));
        var bytes = string.Concat(files.Select(f =>
        {
            using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return System.Text.Encoding.Latin1.GetString(copy.ToArray());
        }));
        Assert.Contains("AuthenticatorKey", bytes); // the row is there (the files are read whole)
        Assert.DoesNotContain(key, bytes);
        foreach (var code in codes)
        {
            Assert.DoesNotContain(code, bytes);
            Assert.DoesNotContain(code.Replace("-", ""), bytes);
        }
        // The app still reads them: a code and a recovery code sign in.
        var browser = Browser();
        await browser.SignInAsync(Admin, Password);
        Assert.Equal("/admin", (await browser.EnterCodeAsync(Totp.Next(key))).Headers.Location?.OriginalString);
        var other = Browser();
        await other.SignInAsync(Admin, Password);
        Assert.Equal("/admin", (await other.EnterRecoveryCodeAsync(codes[0])).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Opening_the_set_up_page_signs_no_other_browser_out_and_the_page_is_not_cached()
    {
        await _app.StaffAsync(Editor, Password, Roles.Editor);
        var laptop = Browser();
        await laptop.SignInAsync(Editor, Password);
        var phone = Browser();
        await phone.SignInAsync(Editor, Password);
        var stamp = (await _app.StaffUserAsync(Editor)).SecurityStamp;

        var setup = await phone.GetAsync("/account/two-factor");
        Assert.Equal(HttpStatusCode.OK, setup.StatusCode);
        var key = await KeyAsync(Editor);
        Assert.Contains(string.Join(' ', key.Chunk(4).Select(c => new string(c))), await setup.Content.ReadAsStringAsync());
        Assert.True(setup.Headers.CacheControl?.NoStore, "a page with the key must not be stored by a browser or proxy");
        Assert.Equal(stamp, (await _app.StaffUserAsync(Editor)).SecurityStamp);
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/admin")).StatusCode);
        // The same key from either browser until 2FA is on.
        Assert.Contains(string.Join(' ', key.Chunk(4).Select(c => new string(c))), await laptop.GetStringAsync("/account/two-factor"));

        var page = await laptop.GetStringAsync("/account/two-factor");
        var done = await laptop.PostFormAsync("/account/two-factor?handler=Enable", page, new() { ["Code"] = Totp.Next(key) });
        Assert.True(done.Headers.CacheControl?.NoStore, "the recovery codes must not be stored by a browser or proxy");
        Assert.Equal(10, RecoveryCodesShown(await done.Content.ReadAsStringAsync()).Count);
    }

    [Fact]
    public async Task A_member_held_at_the_set_up_page_can_sign_out()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var browser = Browser();
        await browser.SignInAsync(Admin, Password);
        Assert.StartsWith("/account/two-factor", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString);
        var setup = await browser.GetStringAsync("/account/two-factor");
        Assert.Contains("action=\"/account/logout\"", setup);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostFormAsync("/account/logout", setup, [])).StatusCode);
        Assert.Contains("/account/login", (await browser.GetAsync("/account/two-factor")).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_remembered_browser_skips_the_code_for_30_days_and_another_browser_does_not()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, _) = await _app.EnableTwoFactorAsync(Admin);
        var mine = Browser();
        await mine.SignInAsync(Admin, Password);
        var remembered = await mine.EnterCodeAsync(Totp.Next(key), rememberBrowser: true);
        var cookie = remembered.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("nm.2fa.remember=", StringComparison.Ordinal));
        var expires = DateTimeOffset.Parse(cookie.Split("; ").Single(p => p.StartsWith("expires=", StringComparison.OrdinalIgnoreCase))["expires=".Length..]);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(29.9), TimeSpan.FromDays(30.1));

        await SignOutAsync(mine);
        Assert.Equal("/admin", (await mine.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await mine.GetAsync("/admin")).StatusCode);

        var other = Browser();
        Assert.StartsWith("/account/login/code", (await other.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
        // Unticked, nothing is remembered.
        await other.EnterCodeAsync(Totp.Next(key));
        await SignOutAsync(other);
        Assert.StartsWith("/account/login/code", (await other.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Five_wrong_codes_lock_the_account_and_then_the_right_code_is_refused_too()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, codes) = await _app.EnableTwoFactorAsync(Admin);
        var browser = Browser();
        await browser.SignInAsync(Admin, Password);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var wrong = await (await browser.EnterCodeAsync(Totp.WrongCode(key))).Content.ReadAsStringAsync();
            Assert.Contains("Nach 5 Fehlversuchen in Folge bleibt ein Konto 15 Minuten lang gesperrt", wrong);
        }
        var user = await _app.StaffUserAsync(Admin);
        Assert.True(user.LockoutEnd > DateTimeOffset.UtcNow.AddMinutes(14), "five wrong codes lock the account for 15 minutes");

        var right = await browser.EnterCodeAsync(Totp.Next(key));
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("Anmeldung fehlgeschlagen", await right.Content.ReadAsStringAsync());
        // Nor does a recovery code get round it, nor starting over with the right password.
        var recovery = await browser.EnterRecoveryCodeAsync(codes[0]);
        Assert.Contains("Anmeldung fehlgeschlagen", await recovery.Content.ReadAsStringAsync());
        var fresh = Browser();
        var again = await fresh.SignInAsync(Admin, Password);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // the login page again, not the code step
        Assert.Contains("Anmeldung fehlgeschlagen", await again.Content.ReadAsStringAsync());
        Assert.Contains("/account/login", (await fresh.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Contains("/account/login", (await browser.GetAsync("/admin")).Headers.Location?.OriginalString);
        // The lockout is a security event: audited once, with the address shortened.
        Assert.Equal(["a***@example.test locked for 15 minutes after too many failed attempts (the last: a wrong code at sign-in)"],
            (await _app.AuditAsync("account")).Where(d => d.Contains("locked")));
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
        await browser.EnterCodeAsync(Totp.Next(key));
        var page = await browser.GetStringAsync("/account/two-factor");

        var wrong = await browser.PostFormAsync("/account/two-factor?handler=Disable", page, new() { ["Password"] = "not my password" });
        Assert.Contains("Nichts wurde geändert", await wrong.Content.ReadAsStringAsync());
        Assert.True((await _app.StaffUserAsync(Editor)).TwoFactorEnabled);

        var off = await browser.PostFormAsync("/account/two-factor?handler=Disable", page, new() { ["Code"] = Totp.Next(key) });
        Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
        Assert.False((await _app.StaffUserAsync(Editor)).TwoFactorEnabled);
        Assert.NotEqual(key, await KeyAsync(Editor));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode); // this browser stays signed in
        Assert.True(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == Editor && a.Details == "two-factor sign-in switched off")));
    }

    /// <summary>The authenticator key as the app reads it (stored encrypted).</summary>
    private async Task<string> KeyAsync(string email)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        return (await users.GetAuthenticatorKeyAsync((await users.FindByEmailAsync(email))!))!;
    }

    private async Task<int> RecoveryCodesLeftAsync(string email)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        return await users.CountRecoveryCodesAsync((await users.FindByEmailAsync(email))!);
    }

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
