using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Issue 17, point 1: a repeat visit transfers only the page. Chromium's own cache decides, so the server counts what
/// actually reaches it while the reader opens the consent page, opens it again and reloads it.
/// </summary>
public sealed class RepeatVisitBrowserTests
{
    [BrowserFact]
    public async Task A_repeat_visit_and_a_reload_of_the_consent_page_fetch_only_the_page()
    {
        var seen = new ConcurrentQueue<string>();
        await using var app = new AppFactory(kestrel: true)
        {
            TestServices = services => services.AddSingleton<IStartupFilter>(new CountRequests(seen)),
        };
        app.StartServer();
        await app.NewsletterAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.PhoneAsync(app.ClientOptions.BaseAddress.ToString());
        // Playwright turns Chromium's HTTP cache off while any route is set (PhoneAsync's guard against other hosts);
        // this page loads nothing but our own files, which the assertions below check.
        await page.Context.UnrouteAllAsync();

        await page.GotoAsync("/n/eilmeldungen");
        var first = seen.ToArray();
        Assert.Contains(first, p => p.StartsWith("/css/reader.css", StringComparison.Ordinal));
        await page.GotoAsync("/n/eilmeldungen");
        await page.ReloadAsync();

        var repeat = seen.Skip(first.Length).ToArray();
        Assert.True(repeat.Length == 2 && repeat.All(p => p == "/n/eilmeldungen"),
            $"First visit: {string.Join(", ", first)}; repeat visit and reload: {string.Join(", ", repeat)}");
    }

    /// <summary>Records every request's path before the app's own pipeline, static files included.</summary>
    private sealed class CountRequests(ConcurrentQueue<string> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                seen.Enqueue(context.Request.Path.Value ?? "");
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
