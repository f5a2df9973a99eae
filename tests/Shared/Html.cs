using System.Net;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Testing;

/// <summary>Reads what a user sees in a page: form tokens, links, visible text.</summary>
public static partial class Html
{
    public static string AntiforgeryToken(string html) =>
        WebUtility.HtmlDecode(TokenPattern().Match(html) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException("No antiforgery token in the page."));

    public static string? InputValue(string html, string name)
    {
        var m = Regex.Match(html, $"<input[^>]*name=\"{Regex.Escape(name)}\"[^>]*value=\"([^\"]*)\"");
        return m.Success ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;
    }

    public static IEnumerable<string> Links(string? html) =>
        HrefPattern().Matches(html ?? "").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value));

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex HrefPattern();
}
