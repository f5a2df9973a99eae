using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Going live in a real browser (C38, C39): a reader finds a friendly "not open yet" page until an admin has
/// completed the legal identity in the settings; then the form appears, and every page links the Impressum and
/// the privacy notice. Each page passes axe-core.
/// </summary>
public sealed class GoLiveBrowserTests : BrowserTest
{
    [AxeFact]
    public async Task A_reader_sees_not_open_yet_until_the_admin_completes_the_legal_identity_then_the_footer_links_it()
    {
        var newsletter = await SeedBareNewsletterAsync();
        await using var browser = await Browser.LaunchAsync();

        var reader = await browser.PhoneAsync(BaseUrl);
        await reader.GotoAsync("/n/eilmeldungen");
        await Assertions.Expect(reader.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("startet in Kürze");
        await Assertions.Expect(reader.Locator("input[type=email]")).ToHaveCountAsync(0);
        await reader.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("golive-1-not-open"), FullPage = true });
        await AccessibilityTests.AssertNoViolationsAsync(reader, "not open yet (de-DE)");

        // The admin sees the checklist, fills in the legal identity and saves.
        var admin = await browser.PhoneAsync(BaseUrl);
        await admin.SetViewportSizeAsync(1280, 900);
        await admin.GotoAsync("/account/login");
        await admin.GetByLabel("E-Mail-Adresse").FillAsync("chef@example.test");
        await admin.GetByLabel("Passwort").FillAsync("correct horse battery");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Anmelden" }).ClickAsync();
        // Signed in once the redirect has arrived; going to /admin before that could cancel the sign-in POST.
        await Assertions.Expect(admin).ToHaveURLAsync(new Regex("/admin$"));
        await Assertions.Expect(admin.Locator(".legal-checklist")).ToContainTextAsync("Postanschrift des Verantwortlichen");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Angaben ergänzen" }).ClickAsync();
        await admin.GetByLabel("Verantwortlicher (vollständiger Name mit Rechtsform) *").FillAsync(LegalIdentity.ControllerName);
        await admin.GetByLabel("Kontaktadresse für Datenschutzanfragen").FillAsync(LegalIdentity.ControllerEmail);
        await admin.GetByLabel("Postanschrift des Verantwortlichen *").FillAsync(LegalIdentity.ControllerAddress);
        await admin.GetByLabel("Impressum *", new() { Exact = true }).FillAsync(LegalIdentity.ImpressumText);
        await admin.GetByLabel("Link zur Datenschutzerklärung", new() { Exact = false }).FillAsync(LegalIdentity.PrivacyUrl);
        await admin.GetByLabel("Version der Datenschutzerklärung *").FillAsync(LegalIdentity.PrivacyVersion);
        await admin.GetByRole(AriaRole.Button, new() { Name = "Speichern", Exact = true }).ClickAsync();
        await Assertions.Expect(admin.Locator(".legal-ready")).ToContainTextAsync("Startklar");
        await admin.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("golive-2-settings-ready"), FullPage = true });

        // The reader's page now has the form, and its footer links the Impressum and the privacy notice.
        await reader.ReloadAsync();
        await Assertions.Expect(reader.Locator("input[type=email]")).ToHaveCountAsync(1);
        var footer = reader.Locator("footer.reader-footer");
        await Assertions.Expect(footer.GetByRole(AriaRole.Link, new() { Name = "Datenschutz" })).ToHaveAttributeAsync("href", LegalIdentity.PrivacyUrl);
        await Assertions.Expect(footer).ToContainTextAsync("Verantwortlich: " + LegalIdentity.ControllerName);
        await reader.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("golive-3-open-with-footer"), FullPage = true });
        await AccessibilityTests.AssertNoViolationsAsync(reader, "sign-up with footer (de-DE)");

        await footer.GetByRole(AriaRole.Link, new() { Name = "Impressum" }).ClickAsync();
        await Assertions.Expect(reader.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Impressum");
        await Assertions.Expect(reader.Locator("main")).ToContainTextAsync("Erika Mustermann");
        await AccessibilityTests.AssertNoViolationsAsync(reader, "Impressum (de-DE)");

        // An unknown confirm link is an error page under the newsletter: it links them too.
        await reader.GotoAsync("/confirm/" + new string('A', 43));
        var errorFooter = reader.Locator("footer.reader-footer");
        await Assertions.Expect(errorFooter.GetByRole(AriaRole.Link, new() { Name = "Impressum" })).ToHaveAttributeAsync("href", $"/n/{newsletter.Slug}/impressum");
        await Assertions.Expect(errorFooter.GetByRole(AriaRole.Link, new() { Name = "Datenschutz" })).ToHaveAttributeAsync("href", LegalIdentity.PrivacyUrl);
    }

    private async Task<Newsletter> SeedBareNewsletterAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync("chef@example.test", "correct horse battery", Roles.Admin, "test");
        Assert.True(result.Succeeded);
        return await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
        }, "test");
    }
}
