namespace NewsletterMigrator.Feeds;

/// <summary>What RSS, Atom and JSON Feed items have in common once read: the rules that make a <see cref="FeedEntry"/>.</summary>
internal sealed class FeedEntries
{
    /// <summary>Titleless items exist (JSON Feed allows them, microblogs use them): the mail shows the teaser's start instead.</summary>
    private const int TitleFromTeaserLength = 100;

    private readonly List<FeedEntry> entries = [];
    private readonly HashSet<string> keys = new(StringComparer.Ordinal);

    public IReadOnlyList<FeedEntry> ToList() => entries;

    /// <summary>
    /// Adds an item in document order. Without id and link nothing could recognise it on the next poll, so it is
    /// skipped; a key seen before in this document is skipped too (the first one is what the CMS lists on top).
    /// </summary>
    public void Add(string? id, string? title, string? link, string? summary, string? imageUrl, IEnumerable<string?> categories, DateTime? publishedUtc)
    {
        id = string.IsNullOrWhiteSpace(id) ? null : id.Trim();
        var key = id ?? link;
        if (key is null || !keys.Add(key)) return;
        summary = FeedText.Teaser(summary);
        if (string.IsNullOrWhiteSpace(title)) title = FeedText.Teaser(summary, TitleFromTeaserLength) ?? link ?? key;
        var distinct = new List<string>();
        foreach (var category in categories)
        {
            var name = FeedText.CollapseWhitespace(category);
            if (name.Length > 0 && !distinct.Contains(name, StringComparer.OrdinalIgnoreCase)) distinct.Add(name);
        }
        entries.Add(new FeedEntry(key, title, link, summary, imageUrl, distinct, publishedUtc));
    }
}
