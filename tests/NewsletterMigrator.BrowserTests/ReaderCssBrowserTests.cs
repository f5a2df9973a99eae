using Microsoft.Playwright;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Issue 17, point 1: reader.css is a cut of Bootstrap and site.css (src/NewsletterMigrator/Styles/build-reader-css).
/// A cut that dropped a rule the pages need (a pseudo-class, an attribute selector, a custom property) would change how
/// they look; here Chromium computes every element's style with reader.css and again with the full Bootstrap and
/// site.css in its place, and the two must be the same.
/// </summary>
public sealed class ReaderCssBrowserTests : BrowserTest
{
    [BrowserFact]
    public async Task The_reader_pages_look_the_same_with_reader_css_as_with_all_of_Bootstrap_and_site_css()
    {
        var paths = await SeedAsync();
        var root = AppFactory.RepositoryRoot();
        var full = await File.ReadAllTextAsync(Path.Combine(root, "wwwroot/lib/bootstrap/dist/css/bootstrap.min.css"))
            + "\n" + await File.ReadAllTextAsync(Path.Combine(root, "wwwroot/css/site.css"));
        await using var browser = await Browser.LaunchAsync();
        var differences = new List<string>();
        foreach (var (name, path, act) in paths)
        {
            var cut = await StylesAsync(browser, path, act, replacement: null);
            var whole = await StylesAsync(browser, path, act, replacement: full);
            Assert.Equal(whole.Length, cut.Length);
            for (var i = 0; i < cut.Length; i++)
            {
                if (cut[i] != whole[i]) differences.Add($"{name}: {Describe(cut[i], whole[i])}");
            }
        }
        Assert.True(differences.Count == 0,
            "reader.css styles the reader pages differently from Bootstrap and site.css (rerun src/NewsletterMigrator/Styles/build-reader-css, "
            + "or safelist what PurgeCSS cannot see):\n" + string.Join("\n", differences.Take(30)));
    }

    /// <summary>Each element's tag, classes and computed style (standard properties), in document order.</summary>
    private async Task<string[]> StylesAsync(Browser browser, string path, Func<IPage, Task>? act, string? replacement)
    {
        var page = await browser.PhoneAsync(BaseUrl);
        // Bootstrap's transitions (a focus border fading in) would be caught half-way; with reduced motion it has none.
        await page.EmulateMediaAsync(new() { ReducedMotion = ReducedMotion.Reduce });
        if (replacement is not null)
            await page.RouteAsync("**/css/reader.css*", route => route.FulfillAsync(new() { Body = replacement, ContentType = "text/css" }));
        await page.GotoAsync(path);
        if (act is not null) await act(page);
        var styles = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('*')].map(e => {
                const s = getComputedStyle(e);
                const props = [...s].filter(p => !p.startsWith('--')).sort().map(p => p + ':' + s.getPropertyValue(p));
                return e.tagName + '.' + [...e.classList].join('.') + '|' + props.join(';');
            })
            """);
        await page.Context.CloseAsync();
        return styles;
    }

    private static string Describe(string cut, string whole)
    {
        var element = cut[..cut.IndexOf('|')];
        var a = cut[(cut.IndexOf('|') + 1)..].Split(';').ToHashSet();
        var b = whole[(whole.IndexOf('|') + 1)..].Split(';').ToHashSet();
        return $"{element}: reader.css {string.Join("; ", a.Except(b).Take(4))} | Bootstrap {string.Join("; ", b.Except(a).Take(4))}";
    }

    private async Task<(string Name, string Path, Func<IPage, Task>? Act)[]> SeedAsync()
    {
        await App.NewsletterAsync();
        var (confirm, unsubscribe) = await App.SignedUpReaderAsync("stil@example.test");
        return
        [
            ("consent page", "/n/eilmeldungen", null),
            // Errors shown, a box ticked, the privacy details open, the address field focused: the states PurgeCSS must keep.
            ("consent page with errors", "/n/eilmeldungen", async page =>
            {
                await page.Locator("form button[type=submit]").ClickAsync();
                await page.Locator("#Input_AgeConfirmed").CheckAsync();
                await page.Locator("details summary").ClickAsync();
                await page.Locator("#Input_Email").FocusAsync();
            }),
            ("confirm", confirm, null),
            ("unsubscribe", unsubscribe, null),
            ("manage", unsubscribe.Replace("/u/", "/manage/"), null),
            ("not found", "/no-such-page", null),
        ];
    }
}
