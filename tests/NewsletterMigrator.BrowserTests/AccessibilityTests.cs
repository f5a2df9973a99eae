using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Issue 5, item 9: every public page a reader meets passes axe-core (the npm package, injected into
/// the page) with no violations, and the confirm and unsubscribe buttons work with the keyboard alone.
/// </summary>
public sealed class AccessibilityTests : BrowserTest
{
    [AxeFact]
    public async Task Every_public_page_of_the_reader_journey_passes_axe_core_in_German_and_English()
    {
        var invitation = await SeedAsync();
        await using var browser = await Browser.LaunchAsync();
        foreach (var locale in new[] { "de-DE", "en-GB" })
        {
            var page = await browser.PhoneAsync(BaseUrl, locale);
            var email = $"axe-{locale}@example.test";
            var german = locale.StartsWith("de");

            await page.GotoAsync("/n/eilmeldungen");
            await AssertNoViolationsAsync(page, $"general sign-up ({locale})");
            await page.Locator("details summary").ClickAsync(); // open the Art. 13 block
            await AssertNoViolationsAsync(page, $"general sign-up, privacy information open ({locale})");

            await page.GotoAsync(invitation);
            await AssertNoViolationsAsync(page, $"invitation ({locale})");
            await page.Locator("form:not(.invite-object) button[type=submit]").ClickAsync(); // nothing filled in: the errors show
            await Assertions.Expect(page.Locator("#consent-error")).Not.ToBeEmptyAsync();
            await AssertNoViolationsAsync(page, $"sign-up with errors ({locale})");

            await page.Locator("#Input_Email").FillAsync(email);
            await page.Locator("#Input_Consent").CheckAsync();
            await page.Locator("#Input_AgeConfirmed").CheckAsync();
            await page.Locator("form:not(.invite-object) button[type=submit]").ClickAsync();
            await Assertions.Expect(page.Locator("[aria-live=polite]")).ToBeVisibleAsync();
            await AssertNoViolationsAsync(page, $"check your inbox ({locale})");

            var mail = await App.Smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address == email));
            await page.GotoAsync(Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/")));
            await AssertNoViolationsAsync(page, $"confirm ({locale})");

            // Keyboard only: Tab to the button, Enter confirms.
            await TabToAsync(page, "button[type=submit]");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(german ? "Anmeldung bestätigt" : "Subscription confirmed");
            Assert.Equal(SubscriberStatus.Confirmed, await App.WithDbAsync(db => db.Subscribers.Where(s => s.Email == email).Select(s => s.Status).SingleAsync()));
            await AssertNoViolationsAsync(page, $"confirmed ({locale})");

            await page.GotoAsync(await UnsubscribePathAsync(email));
            await AssertNoViolationsAsync(page, $"unsubscribe ({locale})");
            await TabToAsync(page, "button[type=submit]");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(german ? "Abgemeldet" : "Unsubscribed");
            Assert.Equal(SubscriberStatus.Unsubscribed, await App.WithDbAsync(db => db.Subscribers.Where(s => s.Email == email).Select(s => s.Status).SingleAsync()));
            await AssertNoViolationsAsync(page, $"unsubscribed ({locale})");

            await page.GotoAsync("/confirm/" + new string('A', 43));
            await AssertNoViolationsAsync(page, $"unknown link ({locale})");
            await page.Context.CloseAsync();
        }
    }

    internal static async Task AssertNoViolationsAsync(IPage page, string where)
    {
        await page.EvaluateAsync(AxeSource.Value);
        var violations = await page.EvaluateAsync<string[]>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
            """);
        Assert.True(violations.Length == 0, $"axe-core found on {where}:\n" + string.Join("\n", violations));
    }

    private static async Task TabToAsync(IPage page, string selector)
    {
        await page.Locator("body").FocusAsync();
        for (var i = 0; i < 10; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector)) return;
        }
        throw new InvalidOperationException($"Ten Tab presses did not reach {selector}.");
    }

    /// <summary>axe-core from npm: `npm ci --prefix tests/NewsletterMigrator.BrowserTests` (run by .ci/run).</summary>
    private static readonly Lazy<string> AxeSource = new(() =>
    {
        var path = AxeFactAttribute.AxePath;
        return File.Exists(path)
            ? File.ReadAllText(path)
            : throw new FileNotFoundException($"axe-core is not installed; run: npm ci --prefix tests/NewsletterMigrator.BrowserTests ({path})");
    });

    private async Task<string> SeedAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
            Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt", PrivacyNoticeUrl = "https://tagblatt.example.test/datenschutz",
        }.Complete(), "test");
        using var file = new MemoryStream(Encoding.UTF8.GetBytes("0160 2424240\n"));
        await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, "numbers.txt", "test", TestImports.Basis);
        var contact = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Contacts.SingleAsync();
        return scope.ServiceProvider.GetRequiredService<InvitationLinks>().InvitationUrl(contact);
    }

    /// <summary>The link a newsletter's footer would carry, derived the way the mail factory derives it.</summary>
    private async Task<string> UnsubscribePathAsync(string email)
    {
        var subscriber = await App.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.Email == email));
        return "/u/" + App.Service<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
    }
}
