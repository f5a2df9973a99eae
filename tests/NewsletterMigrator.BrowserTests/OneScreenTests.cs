using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Issue 17, point 5: a reader who taps the link in WhatsApp on a small phone (360x640 CSS pixels) sees heading,
/// address field, consent box, age box and button without scrolling, in German, with the full consent statement
/// the app generates for a complete legal identity and with the newsletter's logo in the header; axe-core finds nothing.
/// </summary>
public sealed class OneScreenTests : BrowserTest
{
    private const int ScreenHeight = 640;

    [AxeFact]
    public async Task On_a_360_by_640_phone_the_whole_consent_form_fits_the_first_screen_in_German_with_a_logo()
    {
        var invitation = await SeedAsync();
        await using var browser = await Browser.LaunchAsync();
        // A small Android phone as many readers still carry: 360x640 CSS pixels.
        var page = await browser.PhoneAsync(BaseUrl, "de-DE", 360, ScreenHeight);

        foreach (var path in new[] { "/n/eilmeldungen", invitation })
        {
            await page.GotoAsync(path);
            var name = path.StartsWith("/n/") ? "general" : "invitation";
            await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath($"one-screen-360x640-{name}") });

            // The logo is drawn (served by us, allowed by the CSP) in the header, at its display height.
            var logo = page.Locator("header img.brand-logo");
            Assert.True(await logo.EvaluateAsync<bool>("img => img.complete && img.naturalWidth === 160"), $"{name}: the logo did not load");
            Assert.Equal(40, (await logo.BoundingBoxAsync())!.Height, 1);
            await Assertions.Expect(page.Locator("header .brand-name")).ToHaveTextAsync("Tagblatt Eilmeldungen");

            // The full statement is shown (C2), not a shortened one.
            var statement = page.Locator("label[for=Input_Consent]");
            await Assertions.Expect(statement).ToContainTextAsync("Tagblatt Verlag GmbH");
            await Assertions.Expect(statement).ToContainTextAsync("jederzeit widerrufen");

            await AssertInFirstScreenAsync(page.GetByRole(AriaRole.Heading, new() { Level = 1 }), $"{name}: heading");
            await AssertInFirstScreenAsync(page.GetByLabel("Ihre E-Mail-Adresse"), $"{name}: address field");
            await AssertInFirstScreenAsync(page.Locator("#Input_Consent"), $"{name}: consent box");
            await AssertInFirstScreenAsync(statement, $"{name}: consent statement");
            await AssertInFirstScreenAsync(page.Locator("#Input_AgeConfirmed"), $"{name}: age box");
            var button = page.GetByRole(AriaRole.Button, new() { Name = "Kostenlos anmelden" });
            await AssertInFirstScreenAsync(button, $"{name}: button");

            // What must stay on the page follows the button: the objection note (C4), Art. 13 (C3), the Impressum (C39).
            var buttonBottom = await BottomAsync(button);
            Assert.True(await TopAsync(page.Locator("details")) > buttonBottom, $"{name}: the Art. 13 block is not below the button");
            Assert.True(await TopAsync(page.Locator(".shown-impressum")) > buttonBottom, $"{name}: the Impressum is not below the button");
            Assert.True(await TopAsync(page.GetByText("Widerspruchsrecht")) > buttonBottom, $"{name}: the objection note is not below the button");

            // The compact header with a logo keeps axe-core at zero violations (contrast, image text, landmarks).
            await AccessibilityTests.AssertNoViolationsAsync(page, $"{name} page with a logo at 360x640");
        }
        await page.Context.CloseAsync();
    }

    private static async Task AssertInFirstScreenAsync(ILocator element, string what)
    {
        await Assertions.Expect(element).ToBeVisibleAsync();
        var box = await element.BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.True(box.Y >= 0 && box.Y + box.Height <= ScreenHeight,
            $"{what} ends at {box.Y + box.Height:0} px, below the first screen of {ScreenHeight} px");
    }

    private static async Task<float> TopAsync(ILocator element) => (await element.BoundingBoxAsync())!.Y;

    private static async Task<float> BottomAsync(ILocator element) => (await element.BoundingBoxAsync()) is { } b ? b.Y + b.Height : float.MaxValue;

    /// <summary>A newsletter with its complete legal identity (so the default statement names the controller) and a logo.</summary>
    private async Task<string> SeedAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
        }.Complete(), "test");
        var logo = TestPngs.Logo(160, 80);
        var outcome = await scope.ServiceProvider.GetRequiredService<NewsletterLogos>().SetAsync(newsletter.Id, new MemoryStream(logo), logo.Length, "test");
        Assert.True(outcome.Stored, outcome.MessageKey);
        using var file = new MemoryStream(Encoding.UTF8.GetBytes("0160 2424240\n"));
        await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, "numbers.txt", "test", TestImports.Basis);
        var contact = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Contacts.SingleAsync();
        return new Uri(scope.ServiceProvider.GetRequiredService<InvitationLinks>().InvitationUrl(contact)).PathAndQuery;
    }
}
