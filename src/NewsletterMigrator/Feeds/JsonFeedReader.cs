using System.Text.Json;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// JSON Feed 1.0 and 1.1 (jsonfeed.org) with System.Text.Json: the format is small enough that a package would add
/// more than it saves. Fields of the wrong JSON type are treated as absent, as feed readers do.
/// </summary>
internal static class JsonFeedReader
{
    /// <summary>Throws <see cref="JsonException"/> on broken JSON; returns null for JSON that is no JSON Feed.</summary>
    public static (IReadOnlyList<FeedEntry> Entries, string? Title)? Read(ReadOnlyMemory<byte> body, Uri feedUrl)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !IsJsonFeedVersion(String(root, "version"))) return null;
        var entries = new FeedEntries();
        if (root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) continue;
                var html = String(item, "content_html");
                var summary = String(item, "summary") is { } plain ? FeedText.CollapseWhitespace(plain)
                    : html is not null ? FeedText.HtmlToText(html)
                    : FeedText.CollapseWhitespace(String(item, "content_text"));
                entries.Add(
                    id: Id(item),
                    title: FeedText.CollapseWhitespace(String(item, "title")),
                    link: FeedUrl.Resolve(feedUrl, String(item, "url")) ?? FeedUrl.Resolve(feedUrl, String(item, "external_url")),
                    summary: summary,
                    imageUrl: Image(item, feedUrl, html),
                    categories: Strings(item, "tags"),
                    publishedUtc: Date(item, "date_published") ?? Date(item, "date_modified"));
            }
        }
        var title = FeedText.CollapseWhitespace(String(root, "title"));
        return (entries.ToList(), title.Length == 0 ? null : title);
    }

    // 1.0 feeds write "https://jsonfeed.org/version/1", some older ones http.
    private static bool IsJsonFeedVersion(string? version) =>
        version is not null && (version.StartsWith("https://jsonfeed.org/version/", StringComparison.OrdinalIgnoreCase)
            || version.StartsWith("http://jsonfeed.org/version/", StringComparison.OrdinalIgnoreCase));

    // The spec says string; numbers occur in hand-written feeds and are as unique as the CMS made them.
    private static string? Id(JsonElement item) =>
        item.TryGetProperty("id", out var id) ? id.ValueKind switch
        {
            JsonValueKind.String => id.GetString(),
            JsonValueKind.Number => id.GetRawText(),
            _ => null,
        } : null;

    private static string? Image(JsonElement item, Uri feedUrl, string? html)
    {
        var image = FeedUrl.Resolve(feedUrl, String(item, "image")) ?? FeedUrl.Resolve(feedUrl, String(item, "banner_image"));
        if (image is not null) return image;
        if (item.TryGetProperty("attachments", out var attachments) && attachments.ValueKind == JsonValueKind.Array)
        {
            foreach (var attachment in attachments.EnumerateArray())
            {
                if (attachment.ValueKind != JsonValueKind.Object) continue;
                if (String(attachment, "mime_type")?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) != true) continue;
                if (FeedUrl.Resolve(feedUrl, String(attachment, "url")) is { } url) return url;
            }
        }
        return FeedUrl.Resolve(feedUrl, FeedText.FirstImageSource(html));
    }

    private static DateTime? Date(JsonElement item, string name) =>
        FeedDates.TryParse(String(item, name), out var value) ? value.UtcDateTime : null;

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static IEnumerable<string?> Strings(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()).ToList()
            : [];
}
