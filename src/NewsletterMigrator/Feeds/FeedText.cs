using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Feeds;

/// <summary>Plain text from the HTML that feeds carry in titles, descriptions and content.</summary>
public static partial class FeedText
{
    /// <summary>About two to three sentences: what fits under a headline in a mail without becoming the article.</summary>
    public const int TeaserLength = 300;

    /// <summary>
    /// Tags out (block tags become a space, so "&lt;p&gt;a&lt;/p&gt;&lt;p&gt;b&lt;/p&gt;" reads "a b"), scripts, styles and
    /// comments out with their content, entities decoded, whitespace (also no-break spaces) collapsed to one space.
    /// </summary>
    public static string HtmlToText(string? html)
    {
        if (string.IsNullOrWhiteSpace(html)) return "";
        var text = Invisible().Replace(html, " ");
        text = BlockTag().Replace(text, " ");
        text = AnyTag().Replace(text, "");
        // Decoded after the tags are gone, so an escaped "&lt;b&gt;" shown as text stays text.
        text = WebUtility.HtmlDecode(text);
        return CollapseWhitespace(text);
    }

    public static string CollapseWhitespace(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }
            if (pendingSpace) builder.Append(' ');
            pendingSpace = false;
            builder.Append(c);
        }
        return builder.ToString();
    }

    /// <summary>Plain text cut at the last word boundary before <paramref name="maxLength"/>, with an ellipsis when cut; null when empty.</summary>
    public static string? Teaser(string? plainText, int maxLength = TeaserLength)
    {
        var text = CollapseWhitespace(plainText);
        if (text.Length == 0) return null;
        if (text.Length <= maxLength) return text;
        var cut = text.LastIndexOf(' ', maxLength);
        // One enormous word (a URL) would otherwise leave almost nothing: then cut inside it.
        if (cut < maxLength / 2) cut = maxLength;
        return text[..cut].TrimEnd(' ', ',', ';', ':', '-', '–', '—') + "…";
    }

    /// <summary>The src of the first &lt;img&gt; in HTML content: many CMS feeds carry their picture nowhere else.</summary>
    public static string? FirstImageSource(string? html)
    {
        if (string.IsNullOrEmpty(html)) return null;
        var m = ImageSource().Match(html);
        return m.Success ? WebUtility.HtmlDecode(m.Groups["src"].Value) : null;
    }

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Invisible();

    [GeneratedRegex(@"</?(p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|figure|figcaption|hr|pre|dd|dt)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"</?[a-zA-Z][^>]*>")]
    private static partial Regex AnyTag();

    [GeneratedRegex(@"<img\b[^>]*?\bsrc\s*=\s*[""'](?<src>[^""']+)[""']", RegexOptions.IgnoreCase)]
    private static partial Regex ImageSource();
}
