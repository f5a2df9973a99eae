using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// A newsroom's staff side in a real browser (issue 15): a German-speaking admin requires two-factor sign-in for all
/// staff, sets it up for herself and invites an English-speaking editor for one newsletter; the editor accepts the
/// mailed link, sets a password, is held at the two-factor set-up until it is done, then signs in with a code from
/// the authenticator app and with a recovery code, and finds nothing of the other newsletter. The codes are
/// computed from the key the page shows, as an authenticator app does (RFC 6238).
/// </summary>
public sealed class StaffBrowserTests : BrowserTest
{
    private const string AdminEmail = "chefin@example.test";
    private const string AdminPassword = "Redaktionsschluss um Mitternacht";
    private const string EditorEmail = "editor@example.test";
    private const string EditorPassword = "breaking news every morning";

    // Each code comes from a later 30-second step than the one before: a code the app has accepted never works again.
    private int _step;

    [BrowserFact]
    public async Task An_invited_editor_sets_a_password_and_TOTP_signs_in_with_a_code_and_a_recovery_code_and_sees_only_their_newsletter()
    {
        var (mine, other) = await SeedAsync();
        await using var browser = await Browser.LaunchAsync();

        // The admin (German) requires two-factor sign-in for all staff, and is sent to set it up for herself first.
        var admin = await DesktopAsync(browser, "de-DE");
        await SignInAsync(admin, AdminEmail, AdminPassword, "Anmelden", "E-Mail-Adresse", "Passwort");
        await Assertions.Expect(admin).ToHaveURLAsync(new Regex("/admin$"));
        await admin.GetByRole(AriaRole.Link, new() { Name = "Sicherheit" }).ClickAsync();
        await admin.GetByLabel("alle Mitarbeitenden").CheckAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Speichern" }).ClickAsync();
        await Assertions.Expect(admin.Locator("main")).ToContainTextAsync("Die Einstellung ist gespeichert.");
        await admin.GotoAsync("/admin/staff");
        await Assertions.Expect(admin).ToHaveURLAsync(new Regex("/account/two-factor"));
        await Assertions.Expect(admin.Locator("main")).ToContainTextAsync("Für Ihr Konto ist die Zwei-Faktor-Anmeldung vorgeschrieben.");
        await SetUpTwoFactorAsync(admin, "6-stelliger Code", "Einschalten", "Weiter");

        // She invites the editor for one newsletter, with mails in English.
        await admin.GotoAsync("/admin/staff");
        var invite = admin.Locator("#staff-invite");
        // No error yet, so no error box (not even an empty one, which the CSP once let show as a stray bullet).
        await Assertions.Expect(invite.GetByRole(AriaRole.Alert)).ToBeHiddenAsync();
        await invite.GetByLabel("E-Mail-Adresse").FillAsync(EditorEmail);
        await invite.GetByLabel("Rolle").SelectOptionAsync(new SelectOptionValue { Label = "Redaktion" });
        await invite.GetByLabel("Sprache der Mails").SelectOptionAsync(new SelectOptionValue { Label = "Englisch" });
        await invite.GetByLabel(mine.Name).CheckAsync();
        await invite.GetByRole(AriaRole.Button, new() { Name = "Einladen" }).ClickAsync();
        await Assertions.Expect(admin.Locator("main")).ToContainTextAsync("Einladung an");
        await Assertions.Expect(admin.Locator("#staff-list")).ToContainTextAsync(EditorEmail);
        await admin.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("staff-1-invited"), FullPage = true });

        // The editor (English) opens the mailed link and sets a password.
        var mail = await App.Smtp.WaitForAsync(EditorEmail, "Your access to NewsletterMigrator");
        var link = Regex.Match(mail.TextBody ?? "", @"https?://\S+/account/welcome\?\S+").Value;
        Assert.NotEmpty(link);
        var editor = await DesktopAsync(browser, "en-US");
        await editor.GotoAsync(new Uri(link).PathAndQuery);
        await editor.GetByLabel("New password").FillAsync(EditorPassword);
        await editor.GetByLabel("Repeat the password").FillAsync(EditorPassword);
        await editor.GetByRole(AriaRole.Button, new() { Name = "Save password" }).ClickAsync();
        await Assertions.Expect(editor.Locator("main")).ToContainTextAsync("Your password is set. Sign in now.");

        // Signed in, the editor is held at the two-factor set-up until it is done.
        await SignInAsync(editor, EditorEmail, EditorPassword, "Sign in", "Email address", "Password");
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex("/account/two-factor"));
        await Assertions.Expect(editor.Locator("main")).ToContainTextAsync("Two-factor sign-in is required for your account.");
        await editor.GotoAsync($"/admin/campaigns/{mine.Id}");
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex("/account/two-factor"));
        await editor.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("staff-2-two-factor-setup"), FullPage = true });
        var (key, recoveryCodes) = await SetUpTwoFactorAsync(editor, "6-digit code", "Switch on", "Continue");
        Assert.Equal(10, recoveryCodes.Count);

        // Set up, the editor continues where they were held; the dashboard lists their newsletter only, and the
        // other one's pages do not exist for them.
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex($"/admin/campaigns/{mine.Id}$"));
        await editor.GotoAsync("/admin");
        await Assertions.Expect(editor.Locator("main")).ToContainTextAsync(mine.Name);
        await Assertions.Expect(editor.Locator("main")).Not.ToContainTextAsync(other.Name);
        foreach (var page in new[] { "campaigns", "import", "contacts", "invitations", "funnel", "signup", "subscribers", "whatsapp" })
        {
            var answer = await editor.GotoAsync($"/admin/{page}/{other.Id}");
            Assert.Equal(404, answer!.Status);
            await Assertions.Expect(editor.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Page not found");
            await Assertions.Expect(editor.Locator("body")).Not.ToContainTextAsync(other.Name);
            Assert.Equal(200, (await editor.GotoAsync($"/admin/{page}/{mine.Id}"))!.Status);
        }
        await editor.GotoAsync("/admin/staff");
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex("/account/denied"));
        await Assertions.Expect(editor.Locator("#team-list, #staff-list")).ToHaveCountAsync(0);
        await editor.GotoAsync("/admin");

        // Next time: password, then a code from the app.
        await SignOutAsync(editor, "Sign out");
        await SignInAsync(editor, EditorEmail, EditorPassword, "Sign in", "Email address", "Password");
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex("/account/login/code"));
        await editor.GetByLabel("6-digit code").FillAsync(NextCode(key));
        await editor.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex("/admin$"));

        // And without the phone: one of the recovery codes, which then is used up.
        await SignOutAsync(editor, "Sign out");
        await SignInAsync(editor, EditorEmail, EditorPassword, "Sign in", "Email address", "Password");
        await editor.GetByRole(AriaRole.Link, new() { Name = "No access to the app? Sign in with a recovery code" }).ClickAsync();
        await editor.GetByLabel("Recovery code").FillAsync(recoveryCodes[0]);
        await editor.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(editor).ToHaveURLAsync(new Regex("/admin$"));
        await editor.GotoAsync("/account/two-factor");
        await Assertions.Expect(editor.Locator("main")).ToContainTextAsync("9");

        // The admin's list shows the editor active, with two-factor sign-in on.
        await admin.GotoAsync("/admin/staff");
        var row = admin.Locator("#staff-list tr", new() { HasText = EditorEmail });
        await Assertions.Expect(row).ToContainTextAsync("Redaktion");
        await Assertions.Expect(row).ToContainTextAsync(mine.Name);
        await Assertions.Expect(row).Not.ToContainTextAsync(other.Name);
        await admin.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("staff-3-team"), FullPage = true });
    }

    private async Task<(Newsletter Mine, Newsletter Other)> SeedAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync(AdminEmail, AdminPassword, Roles.Admin, "test");
        Assert.True(created.Succeeded);
        var newsletters = scope.ServiceProvider.GetRequiredService<NewsletterService>();
        var mine = await newsletters.CreateAsync(NewNewsletter("eilmeldungen", "Tagblatt Eilmeldungen"), "test");
        var other = await newsletters.CreateAsync(NewNewsletter("sport", "Tagblatt Sportticker"), "test");
        return (mine, other);
    }

    private static Newsletter NewNewsletter(string slug, string name) => new Newsletter
    {
        Slug = slug, Name = name, SenderName = "Tagblatt", SenderAddress = $"{slug}@tagblatt.example.test",
    }.Complete();

    private async Task<IPage> DesktopAsync(Browser browser, string locale)
    {
        var page = await browser.PhoneAsync(BaseUrl, locale);
        await page.SetViewportSizeAsync(1280, 900);
        return page;
    }

    private static async Task SignInAsync(IPage page, string email, string password, string submit, string emailLabel, string passwordLabel)
    {
        await page.GotoAsync("/account/login");
        await page.GetByLabel(emailLabel).FillAsync(email);
        await page.GetByLabel(passwordLabel, new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = submit }).ClickAsync();
        // Signed in (or at the next step) once the redirect has arrived; navigating earlier could cancel the POST.
        await Assertions.Expect(page).Not.ToHaveURLAsync(new Regex("/account/login$"));
    }

    private static async Task SignOutAsync(IPage page, string button)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();
        await Assertions.Expect(page).Not.ToHaveURLAsync(new Regex("/admin"));
    }

    /// <summary>Reads the key as a person would type it into the app, confirms with a code, and keeps the recovery codes shown once.</summary>
    private async Task<(string Key, List<string> RecoveryCodes)> SetUpTwoFactorAsync(IPage page, string codeLabel, string enable, string continueLink)
    {
        await Assertions.Expect(page.Locator(".qr-code svg")).ToBeVisibleAsync();
        var key = await page.Locator(".authenticator-key").InnerTextAsync();
        await page.GetByLabel(codeLabel).FillAsync(NextCode(key));
        await page.GetByRole(AriaRole.Button, new() { Name = enable }).ClickAsync();
        var codes = page.Locator(".recovery-codes li");
        await Assertions.Expect(codes).ToHaveCountAsync(10);
        var recoveryCodes = (await codes.AllInnerTextsAsync()).Select(c => c.Trim()).ToList();
        await page.GetByRole(AriaRole.Link, new() { Name = continueLink }).ClickAsync();
        return (key, recoveryCodes);
    }

    private string NextCode(string key) => Totp.Code(key, DateTimeOffset.UtcNow.AddSeconds(30 * _step++));
}
