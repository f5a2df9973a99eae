using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>The editor's click-to-chat queue with the keyboard: S sends and moves on, N skips. wa.me itself is never reached.</summary>
public sealed class InvitationQueueBrowserTests : BrowserTest
{
    [BrowserFact]
    public async Task S_sends_and_moves_on_N_skips_C27()
    {
        var newsletterId = await SeedAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl);
        await page.GotoAsync("/account/login");
        await page.Locator("#Email").FillAsync("editor@example.test");
        await page.Locator("#Password").FillAsync("long enough password");
        await page.Locator("button[type=submit]").ClickAsync();
        // Poll the address rather than wait for the load event: under a loaded CI machine the latter once
        // timed out after the redirect had already arrived, and a wrong address now says where it ended.
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin$"));

        await page.GotoAsync($"/admin/invitations/{newsletterId}");
        await Assertions.Expect(page.Locator("#queue-progress")).ToContainTextAsync("Kontakt 1 von 3");
        var first = await page.Locator("#queue-card").GetAttributeAsync("data-contact-id");

        // S: the form posts to a new tab (its redirect to wa.me is aborted: loopback only) and this tab moves on.
        var popup = page.Context.WaitForPageAsync();
        await page.Keyboard.PressAsync("s");
        await popup;
        await Assertions.Expect(page.Locator("#queue-progress")).ToContainTextAsync("Kontakt 2 von 3");
        Assert.NotNull(await App.WithDbAsync(db => db.Contacts.Where(c => c.Id == Guid.Parse(first!)).Select(c => c.InvitedAtUtc).SingleAsync()));
        // The page moved on while the new tab's POST may still be running: the count is right after a reload.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#queue-progress")).ToContainTextAsync("2 noch einzuladen");

        // N: skip without inviting.
        await page.Keyboard.PressAsync("n");
        await Assertions.Expect(page.Locator("#queue-progress")).ToContainTextAsync("Kontakt 3 von 3");
        Assert.Equal(1, await App.WithDbAsync(db => db.Contacts.CountAsync(c => c.InvitedAtUtc != null)));
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("queue-third-contact"), FullPage = true });

        // Typing in a filter field is not a shortcut.
        await page.Locator("#Lang").FocusAsync();
        await page.Keyboard.PressAsync("n");
        await Assertions.Expect(page.Locator("#queue-progress")).ToContainTextAsync("Kontakt 3 von 3");
    }

    private async Task<int> SeedAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
            Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt",
        }.Complete(), "test");
        var csv = "Telefonnummer;Name\n0160 1111111;Anna Muster\n0171 2222222;Ben Beispiel\n0160 3333333;Clara Test\n";
        using var file = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, "liste.csv", "test", TestImports.Basis);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Newsletters.Where(n => n.Id == newsletter.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.MigrationEndsAtUtc, Berlin.EndOfDayUtc(DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30)))));
        var created = await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync("editor@example.test", "long enough password", Roles.Editor, "test", [newsletter.Id]);
        Assert.True(created.Succeeded);
        return newsletter.Id;
    }
}
