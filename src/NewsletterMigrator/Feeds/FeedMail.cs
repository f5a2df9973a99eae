using System.Text;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// The Markdown of a feed's campaigns: one item as breaking news, or the items since the last digest. Plain links to
/// the portal (no tracking parameters), images by their URL with the title as alt text. The campaign then renders
/// through the same mail layout as any other (header, Impressum, objection note, unsubscribe).
/// </summary>
public sealed class FeedMail(IStringLocalizer<SharedResource> text)
{
    /// <summary>A digest names at most this many items, the newest; older ones are left out (a digest is a round-up).</summary>
    public const int MaxDigestItems = 40;

    public sealed record Draft(string Subject, string Preheader, string BodyMarkdown);

    public Draft Breaking(Newsletter newsletter, FeedItem item)
    {
        using var culture = new CultureScope(newsletter.DefaultLanguage);
        var body = new StringBuilder();
        AppendImage(body, item);
        if (!string.IsNullOrWhiteSpace(item.Summary)) body.Append(Escape(item.Summary)).Append("\n\n");
        if (SafeUrl(item.Link) is { } link) body.Append('[').Append(Escape(text["Feeds_ReadMore", link.Host])).Append("](<").Append(link.AbsoluteUri).Append(">)\n");
        return new Draft(Cut(item.Title, 200), Cut(item.Summary ?? "", 150), body.ToString());
    }

    public Draft Digest(Newsletter newsletter, IReadOnlyList<FeedItem> items, DateTime atUtc)
    {
        using var culture = new CultureScope(newsletter.DefaultLanguage);
        var body = new StringBuilder();
        body.Append(Escape(text["Feeds_DigestIntro"])).Append("\n\n");
        foreach (var item in items)
        {
            body.Append("## ");
            if (SafeUrl(item.Link) is { } link) body.Append('[').Append(Escape(item.Title)).Append("](<").Append(link.AbsoluteUri).Append(">)");
            else body.Append(Escape(item.Title));
            body.Append("\n\n");
            AppendImage(body, item);
            if (!string.IsNullOrWhiteSpace(item.Summary)) body.Append(Escape(item.Summary)).Append("\n\n");
        }
        var subject = text["Feeds_DigestSubject", newsletter.Name, Berlin.ToLocal(atUtc).ToString("dd.MM.yyyy")];
        return new Draft(Cut(subject, 200), Cut(string.Join(" · ", items.Take(3).Select(i => i.Title)), 150), body.ToString().TrimEnd() + "\n");
    }

    private static void AppendImage(StringBuilder body, FeedItem item)
    {
        if (SafeUrl(item.ImageUrl) is { } image) body.Append("![").Append(Escape(item.Title)).Append("](<").Append(image.AbsoluteUri).Append(">)\n\n");
    }

    /// <summary>Only absolute http(s) links reach a mail (<see cref="FeedUrl.IsWebUrl"/>); anything else a stored item holds is dropped.</summary>
    private static Uri? SafeUrl(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && FeedUrl.IsWebUrl(uri) ? uri : null;

    /// <summary>
    /// The feed's text as literal text, and still readable in the editor: the characters that start Markdown constructs
    /// anywhere (emphasis, code, links, tags, tables, entities) are escaped, and those that do only at the start of a line
    /// (heading, list, quote) only there; a headline with "*" or "[…](…)" stays a headline.
    /// </summary>
    internal static string Escape(string value)
    {
        var text = value.ReplaceLineEndings(" ").Trim();
        var result = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '~' or '&') result.Append('\\');
            if (!char.IsControl(c)) result.Append(c);
        }
        // "1. FC Köln …" would be an ordered list, "- " or "# " a list or heading.
        var digits = 0;
        while (digits < result.Length && char.IsAsciiDigit(result[digits])) digits++;
        if (digits > 0 && digits < result.Length && result[digits] is '.' or ')') result.Insert(digits, '\\');
        else if (result.Length > 0 && result[0] is '#' or '+' or '-' or '=') result.Insert(0, '\\');
        return result.ToString();
    }

    private static string Cut(string value, int max)
    {
        value = value.Trim();
        return value.Length <= max ? value : value[..(max - 1)].TrimEnd() + "…";
    }
}
