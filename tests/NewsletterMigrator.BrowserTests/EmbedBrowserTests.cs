using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Issue 17, point 4, in a real browser: a portal page on another origin (localhost:other port; the app is on
/// 127.0.0.1) pastes the admin's snippet. Chromium enforces frame-ancestors, blocks nothing it should allow, and the
/// frame sizes itself through embed-frame.js and embed.js without a cookie.
/// </summary>
public sealed class EmbedBrowserTests : BrowserTest
{
    [BrowserFact]
    public async Task A_listed_portal_frames_the_box_which_fits_its_content_and_takes_a_sign_up_without_a_cookie()
    {
        await using var portal = await Portal.StartAsync(await SnippetAsync());
        await SetOriginsAsync(portal.Origin);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl);
        await page.GotoAsync(portal.Origin + "/");

        var frame = page.FrameLocator("iframe[data-newsletter-embed]");
        await Assertions.Expect(frame.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Tagblatt Eilmeldungen per E-Mail");
        var formHeight = await FitsItsContentAsync(page);
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("embed-1-portal-form"), FullPage = true });

        // Opening the privacy information makes the box taller, and the frame follows.
        await frame.Locator("details summary").ClickAsync();
        var openHeight = await FitsItsContentAsync(page);
        Assert.True(openHeight > formHeight + 100, $"the frame stayed {openHeight}px with the privacy information open (form: {formHeight}px)");
        await frame.Locator("details summary").ClickAsync();

        await frame.GetByLabel("Ihre E-Mail-Adresse").FillAsync("portal-leser@example.test");
        await frame.GetByRole(AriaRole.Checkbox, new() { Name = "Ja, ich möchte den E-Mail-Newsletter" }).CheckAsync();
        await frame.GetByRole(AriaRole.Checkbox, new() { Name = "Ich bin mindestens 16 Jahre alt." }).CheckAsync();
        await frame.GetByRole(AriaRole.Button, new() { Name = "Kostenlos anmelden" }).ClickAsync();
        await Assertions.Expect(frame.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Bitte sehen Sie in Ihr Postfach");
        var doneHeight = await FitsItsContentAsync(page);
        Assert.True(doneHeight < formHeight, $"the frame did not shrink to the success text ({doneHeight}px, form {formHeight}px)");
        await page.ScreenshotAsync(new() { Path = Browser.ScreenshotPath("embed-2-portal-done"), FullPage = true });

        var signUp = await App.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        Assert.Equal("embed", signUp.Page);
        Assert.Equal(SubscriberStatus.Pending, await App.WithDbAsync(db => db.Subscribers.Select(s => s.Status).SingleAsync()));
        await App.Smtp.WaitForAsync("portal-leser@example.test", "bestätigen");
        Assert.Empty(await page.Context.CookiesAsync()); // neither the app nor the portal set one
        Console.WriteLine($"Embed frame heights (390 px phone, German): form {formHeight}px, privacy information open {openHeight}px, success {doneHeight}px");
    }

    [BrowserFact]
    public async Task A_portal_that_is_not_listed_gets_a_blocked_frame()
    {
        await using var portal = await Portal.StartAsync(await SnippetAsync());
        await SetOriginsAsync("https://www.portal.example"); // another portal is listed, not this one
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(BaseUrl);
        var refusals = new List<string>();
        page.Console += (_, message) => { if (message.Text.Contains("frame-ancestors")) refusals.Add(message.Text); };
        var embedAnswered = page.WaitForResponseAsync(r => r.Url.Contains("/embed"));
        await page.GotoAsync(portal.Origin + "/");
        await embedAnswered;

        await EmbedWait.UntilAsync(() => Task.FromResult(refusals.Count > 0), "Chromium to refuse the frame");
        Assert.Contains(refusals, r => r.Contains("frame-ancestors https://www.portal.example"));
        var child = page.Frames.Single(f => f != page.MainFrame);
        Assert.Equal(0, await child.Locator("form").CountAsync());
    }

    [AxeFact]
    public async Task The_embed_page_passes_axe_core_in_German_and_English_with_the_form_its_errors_and_the_success_text()
    {
        await SeedAsync();
        await using var browser = await Browser.LaunchAsync();
        foreach (var lang in new[] { "de", "en" })
        {
            var page = await browser.PhoneAsync(BaseUrl);
            await page.GotoAsync($"/n/eilmeldungen/embed?lang={lang}");
            await AccessibilityTests.AssertNoViolationsAsync(page, $"embed ({lang})");
            await page.Locator("details summary").ClickAsync();
            await AccessibilityTests.AssertNoViolationsAsync(page, $"embed, privacy information open ({lang})");
            await page.Locator("button[type=submit]").ClickAsync();
            await Assertions.Expect(page.Locator("#consent-error")).Not.ToBeEmptyAsync();
            await AccessibilityTests.AssertNoViolationsAsync(page, $"embed with errors ({lang})");
            await page.Locator("#Input_Email").FillAsync($"axe-embed-{lang}@example.test");
            await page.Locator("#Input_Consent").CheckAsync();
            await page.Locator("#Input_AgeConfirmed").CheckAsync();
            await page.Locator("button[type=submit]").ClickAsync();
            await Assertions.Expect(page.Locator("[aria-live=polite]")).ToBeVisibleAsync();
            await AccessibilityTests.AssertNoViolationsAsync(page, $"embed, check your inbox ({lang})");
            await page.Context.CloseAsync();
        }
    }

    /// <summary>The iframe's height equals its document's (within 2 px) once embed.js has applied it; returns it.</summary>
    private static async Task<int> FitsItsContentAsync(IPage page)
    {
        var child = page.Frames.Single(f => f.Url.Contains("/embed"));
        int frameHeight = 0, contentHeight = 0;
        await EmbedWait.UntilAsync(async () =>
        {
            frameHeight = await page.EvalOnSelectorAsync<int>("iframe[data-newsletter-embed]", "f => f.style.height ? Math.round(f.getBoundingClientRect().height) : -1");
            contentHeight = await child.EvaluateAsync<int>("() => Math.ceil(document.documentElement.getBoundingClientRect().height)");
            return Math.Abs(frameHeight - contentHeight) <= 2;
        }, () => $"the frame to take its content's height (frame {frameHeight}px, content {contentHeight}px)");
        return frameHeight;
    }

    private async Task<string> SnippetAsync()
    {
        await SeedAsync();
        return EmbedSnippet.Frame(new Uri(BaseUrl), "eilmeldungen", "Newsletter-Anmeldung: Tagblatt Eilmeldungen");
    }

    private async Task SeedAsync()
    {
        if (await App.WithDbAsync(db => db.Newsletters.AnyAsync())) return;
        await using var scope = App.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
        }.Complete(), "test");
    }

    private Task SetOriginsAsync(string origins) =>
        App.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.EmbedOrigins, origins)));

    /// <summary>The portal: a static article page with the snippet, on http://localhost:&lt;its own port&gt;.</summary>
    private sealed class Portal : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Portal(WebApplication app, string origin)
        {
            _app = app;
            Origin = origin;
        }

        public string Origin { get; }

        public static async Task<Portal> StartAsync(string snippet)
        {
            var html = $"""
                <!DOCTYPE html>
                <html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Portal</title></head>
                <body><main><h1>Ein Artikel</h1><p>Text des Artikels.</p>
                {snippet}
                <p>Nach dem Kasten.</p></main></body></html>
                """;
            var port = TestSmtpServer.FreePort();
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Path.GetTempPath(), EnvironmentName = "Portal" });
            builder.WebHost.UseUrls($"http://localhost:{port}");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/", () => Results.Content(html, "text/html; charset=utf-8"));
            await app.StartAsync();
            return new Portal(app, $"http://localhost:{port}");
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

/// <summary>Polls what a page shows until it holds.</summary>
internal static class EmbedWait
{
    public static Task UntilAsync(Func<Task<bool>> condition, string what) => UntilAsync(condition, () => what);

    /// <param name="what">Said when the wait fails: read then, so it can name the last values seen.</param>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 10 s for {what()}.");
            await Task.Delay(50);
        }
    }
}
