using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// A sent newsletter mail, as the SMTP server received it, drawn by Chromium at a phone's width in a light and in a dark
/// client (issue 21). The screenshots are kept as test output (bin/…/screenshots/mail-phone-light.png and -dark.png);
/// the test checks what a reader would see in each: nothing wider than the screen, the logo drawn, the card white with
/// dark text in light mode and dark with light text in dark mode.
/// </summary>
public sealed class MailScreenshotTests : BrowserTest
{
    private const string Body = """
        # Hochwasser in der Altstadt

        Die Feuerwehr räumt die Uferstraße. [Alle Meldungen](https://www.tagblatt.example/hochwasser) im Überblick.

        - Sperrungen bis Freitag
        - Notunterkunft in der Stadthalle

        > Bitte meiden Sie das Ufer.
        """;

    [BrowserFact]
    public async Task The_mail_reads_at_phone_width_in_a_light_and_in_a_dark_client()
    {
        var html = await SentMailAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl);

        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await page.SetContentAsync(html, new() { WaitUntil = WaitUntilState.Load });
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("mail-phone-light"), FullPage = true });
        await AssertReadableAsync(page, card: "rgb(255, 255, 255)", text: "rgb(17, 24, 39)");

        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("mail-phone-dark"), FullPage = true });
        await AssertReadableAsync(page, card: "rgb(31, 41, 55)", text: "rgb(243, 244, 246)");
    }

    private static async Task AssertReadableAsync(IPage page, string card, string text)
    {
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the mail is wider than the phone");
        Assert.True(await page.EvaluateAsync<bool>("(() => { const i = document.querySelector('img.logo'); return i.complete && i.naturalWidth > 0; })()"), "the logo was not drawn");
        Assert.Equal(card, await page.EvaluateAsync<string>("getComputedStyle(document.querySelector('td.content')).backgroundColor"));
        Assert.Equal(text, await page.EvaluateAsync<string>("getComputedStyle(document.querySelector('td.content h1')).color"));
    }

    private async Task<string> SentMailAsync()
    {
        await App.NewsletterAsync();
        var newsletter = await App.BrandAsync((await App.WithDbAsync(db => db.Newsletters.AsNoTracking().SingleAsync())).Id,
            "#c8102e", "Tagblatt – Nachrichten aus der Region");
        await App.ConfirmedReadersAsync(newsletter, "leserin@example.test");
        var id = await App.CampaignAsync(newsletter, "Hochwasser", Body);
        await App.WaitForCampaignAsync(id, CampaignStatus.Sent);
        return App.Smtp.Received("Hochwasser")["leserin@example.test"].Single().HtmlBody!;
    }
}
