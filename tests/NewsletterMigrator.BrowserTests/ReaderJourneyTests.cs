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

/// <summary>The reader's steps in a real browser: open the invitation, consent, confirm by the mailed link.</summary>
public sealed class ReaderJourneyTests : BrowserTest
{
    [BrowserFact]
    public async Task A_reader_signs_up_on_a_phone_and_confirms_by_the_mailed_link()
    {
        var invitation = await SeedInvitationAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl);

        // Step 3: the invitation opens the consent page; the box is unticked and must be ticked by hand.
        await page.GotoAsync(invitation);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Tagblatt Eilmeldungen per E-Mail");
        var consent = page.GetByRole(AriaRole.Checkbox, new() { Name = "Ja, ich möchte den E-Mail-Newsletter" });
        await Assertions.Expect(consent).Not.ToBeCheckedAsync();
        await page.GetByLabel("Ihre E-Mail-Adresse").FillAsync("browser-leser@example.test");

        // Without the consent box, the error appears next to it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Kostenlos anmelden" }).ClickAsync();
        await Assertions.Expect(page.Locator("#consent-error")).ToContainTextAsync("Bitte setzen Sie das Häkchen");

        await consent.CheckAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Ich bin mindestens 16 Jahre alt." }).CheckAsync();
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("1-consent-page"), FullPage = true });
        await page.GetByRole(AriaRole.Button, new() { Name = "Kostenlos anmelden" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Bitte sehen Sie in Ihr Postfach");

        // Step 4: the DOI mail arrives over SMTP.
        var mail = await App.Smtp.WaitForAsync("browser-leser@example.test", "bestätigen");
        var confirmLink = Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"));

        // Step 5: opening the link confirms nothing; the button does.
        await page.GotoAsync(confirmLink);
        Assert.Equal(SubscriberStatus.Pending, await StatusAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Anmeldung bestätigen" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Anmeldung bestätigt");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("2-confirmed"), FullPage = true });
        Assert.Equal(SubscriberStatus.Confirmed, await StatusAsync());
        Assert.Null(await App.WithDbAsync(db => db.Contacts.Select(c => c.PhoneEncrypted).SingleAsync()));
    }

    [BrowserFact]
    public async Task The_consent_page_works_with_the_keyboard_alone_in_English()
    {
        await SeedInvitationAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl, locale: "en-GB");
        await page.GotoAsync("/n/eilmeldungen");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("by email");

        await page.GetByLabel("Your email address").FocusAsync();
        await page.Keyboard.TypeAsync("keyboard@example.test");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Space"); // consent
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Space"); // 16+
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter"); // the honeypot is skipped: tabindex -1
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("check your inbox");
        var mail = await App.Smtp.WaitForAsync("keyboard@example.test", "confirm");
        Assert.Contains("Please confirm", mail.TextBody);
    }

    private async Task<string> SeedInvitationAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
            Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt",
        }.Complete(), "test");
        using var file = new MemoryStream(Encoding.UTF8.GetBytes("0160 2424240\n"));
        await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, "numbers.txt", "test", TestImports.Basis);
        var contact = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Contacts.SingleAsync();
        return scope.ServiceProvider.GetRequiredService<InvitationLinks>().InvitationUrl(contact);
    }

    private Task<SubscriberStatus> StatusAsync() => App.WithDbAsync(db => db.Subscribers.Select(s => s.Status).SingleAsync());
}
