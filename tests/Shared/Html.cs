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

    public static string? TextAreaValue(string html, string name)
    {
        var m = Regex.Match(html, $"<textarea[^>]*name=\"{Regex.Escape(name)}\"[^>]*>(.*?)</textarea>", RegexOptions.Singleline);
        return m.Success ? WebUtility.HtmlDecode(m.Groups[1].Value).TrimStart('\r', '\n') : null;
    }

    /// <summary>The value of the selected option of a &lt;select name="…"&gt;, as the browser would post it.</summary>
    public static string? SelectedValue(string html, string name)
    {
        var select = Regex.Match(html, $"<select[^>]*name=\"{Regex.Escape(name)}\"[^>]*>(.*?)</select>", RegexOptions.Singleline);
        if (!select.Success) return null;
        var option = Regex.Match(select.Groups[1].Value, "<option[^>]*value=\"([^\"]*)\"[^>]*selected=\"selected\"");
        return option.Success ? WebUtility.HtmlDecode(option.Groups[1].Value) : null;
    }

    public static IEnumerable<string> Links(string? html) =>
        HrefPattern().Matches(html ?? "").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value));

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex HrefPattern();
}
