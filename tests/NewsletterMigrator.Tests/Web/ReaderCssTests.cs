using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Web;

/// <summary>
/// Issue 17, point 1: the reader pages load only wwwroot/css/reader.css, a subset of Bootstrap and site.css made by
/// src/NewsletterMigrator/Styles/build-reader-css. When markup or site.css changes and nobody reruns it, a page would
/// quietly lose its styles; these tests say so instead.
/// </summary>
public sealed partial class ReaderCssTests
{
    private const string Rerun = "rerun src/NewsletterMigrator/Styles/build-reader-css and commit wwwroot/css/reader.css";

    /// <summary>Classes that hook tests or mark an element, styled by nothing on purpose (also written by ASP.NET's tag helpers).</summary>
    private static readonly HashSet<string> UnstyledHooks =
    [
        "reader-footer", "shown-impressum", "privacy-version", "invite-object",
        "field-validation-valid", "field-validation-error", "input-validation-error", "validation-summary-errors",
    ];

    [Fact]
    public async Task Every_class_on_the_reader_pages_is_styled_by_reader_css_or_a_named_hook()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var invitation = (await app.InvitationsAsync(newsletter, "0160 2424240"))[0];
        var pages = new Dictionary<string, string>();
        var reader = app.Reader();

        var consent = await reader.GetStringAsync("/n/eilmeldungen");
        pages["consent page"] = consent;
        pages["consent page with errors"] = await (await reader.PostFormAsync("/n/eilmeldungen", consent, TestData.SignUpForm(consent, "", consent: false, age: false))).Content.ReadAsStringAsync();
        pages["invitation"] = await reader.GetStringAsync(invitation);
        pages["check your inbox"] = await (await reader.SignUpAsync("leser@example.test", invitation)).Content.ReadAsStringAsync();
        var doi = await app.Smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address == "leser@example.test"));
        var confirm = ReaderSteps.PathOf(doi, "/confirm/");
        var confirmPage = await reader.GetStringAsync(confirm);
        pages["confirm"] = confirmPage;
        pages["confirmed"] = await (await reader.PostFormAsync(confirm, confirmPage, [])).Content.ReadAsStringAsync();
        var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.Email == "leser@example.test"));
        var token = app.Service<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
        pages["unsubscribe"] = await reader.GetStringAsync("/u/" + token);
        pages["manage"] = await reader.GetStringAsync("/manage/" + token);
        pages["impressum"] = await reader.GetStringAsync("/n/eilmeldungen/impressum");
        pages["unknown confirm link"] = await (await reader.GetAsync("/confirm/" + new string('A', 43))).Content.ReadAsStringAsync();
        pages["error 404"] = await (await reader.GetAsync("/no-such-page")).Content.ReadAsStringAsync();
        await app.StaffAsync("redaktion@example.test", "ein langes Passwort 17", NewsletterMigrator.Staff.Roles.Editor);
        pages["staff sign-in (same layout)"] = await reader.GetStringAsync("/account/login");

        var styled = StyledClasses(File.ReadAllText(ReaderCssPath));
        var missing = pages
            .SelectMany(page => ClassAttribute().Matches(page.Value)
                .SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(c => !styled.Contains(c) && !UnstyledHooks.Contains(c))
                .Select(c => $"'{c}' on the {page.Key}"))
            .Distinct().ToList();
        Assert.True(missing.Count == 0,
            $"reader.css has no rule for: {string.Join(", ", missing)}.\n{Rerun} (or, for a class nothing styles on purpose, add it to UnstyledHooks).");

        // The reader pages load this one stylesheet, and no longer all of Bootstrap.
        foreach (var (name, html) in pages)
        {
            var sheets = StylesheetLink().Matches(html).Select(m => m.Groups[1].Value).ToList();
            Assert.True(sheets.Count == 1 && sheets[0].StartsWith("/css/reader.css?v=", StringComparison.Ordinal), $"The {name} loads {string.Join(", ", sheets)}");
        }
    }

    [Fact]
    public void Reader_css_was_generated_from_the_current_site_css_and_Bootstrap()
    {
        // The generator writes the hash of its CSS sources into its first line; a change to site.css alone (a colour, a
        // spacing) shows in no class list, so it is caught here.
        var root = AppFactory.RepositoryRoot();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var source in new[] { "wwwroot/lib/bootstrap/dist/css/bootstrap.min.css", "wwwroot/css/site.css" })
            hash.AppendData(File.ReadAllBytes(Path.Combine(root, source)));
        var expected = Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
        var firstLine = File.ReadLines(ReaderCssPath).First();
        Assert.True(firstLine.Contains($"sources {expected} "), $"site.css or Bootstrap changed since reader.css was generated: {Rerun}.");
    }

    private static string ReaderCssPath => Path.Combine(AppFactory.RepositoryRoot(), "wwwroot", "css", "reader.css");

    /// <summary>Every class a selector of the stylesheet names (comments, strings and url() removed first).</summary>
    internal static HashSet<string> StyledClasses(string css)
    {
        var plain = CssNoise().Replace(css, " ");
        return [.. ClassSelector().Matches(plain).Select(m => m.Groups[1].Value)];
    }

    [GeneratedRegex("""class="([^"]*)"\s*""")]
    private static partial Regex ClassAttribute();

    [GeneratedRegex("""<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"[^>]*>""")]
    private static partial Regex StylesheetLink();

    [GeneratedRegex("""/\*.*?\*/|url\([^)]*\)|"[^"]*"|'[^']*'""", RegexOptions.Singleline)]
    private static partial Regex CssNoise();

    [GeneratedRegex(@"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")]
    private static partial Regex ClassSelector();
}
