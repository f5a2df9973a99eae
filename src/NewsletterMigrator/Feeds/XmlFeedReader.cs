using System.ServiceModel.Syndication;
using System.Xml;
using System.Xml.Linq;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// RSS 2.0 and Atom 1.0 through System.ServiceModel.Syndication, which already knows the fiddly parts: a guid with
/// isPermaLink (the default) doubles as the link, xml:base, Atom link relations, enclosures, category labels.
/// What it leaves as raw extensions (media:content, content:encoded, dc:date) is read here.
/// </summary>
internal static class XmlFeedReader
{
    private const string MediaRss = "http://search.yahoo.com/mrss/";
    private const string ContentModule = "http://purl.org/rss/1.0/modules/content/";
    private const string DublinCore = "http://purl.org/dc/elements/1.1/";

    /// <summary>
    /// No DTD (the classic entity-expansion and external-entity attacks need one), no resolver (nothing is fetched
    /// or read from disk on the document's behalf), no entity characters beyond the document itself.
    /// </summary>
    internal static XmlReaderSettings SafeSettings(long maxCharacters) => new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersFromEntities = 1024,
        MaxCharactersInDocument = maxCharacters,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        CloseInput = true,
    };

    /// <summary>Reads the document; throws <see cref="XmlException"/> on broken XML, returns null for XML that is no RSS or Atom.</summary>
    public static (IReadOnlyList<FeedEntry> Entries, string? Title)? Read(XmlReader reader, Uri feedUrl)
    {
        reader.MoveToContent();
        SyndicationFeedFormatter formatter;
        var isRss = false;
        var rss = Lenient(new Rss20FeedFormatter());
        var atom = Lenient(new Atom10FeedFormatter());
        if (rss.CanRead(reader)) { formatter = rss; isRss = true; }
        else if (atom.CanRead(reader)) formatter = atom;
        else return null;
        if (isRss && reader.GetAttribute("version") != "2.0")
        {
            // Syndication refuses every version but "2.0" (measured: "0.91", "0.92", "2.00" and a missing attribute);
            // RSS 0.9x is a subset of 2.0 and CMS templates drop the attribute, so such a document is read as 2.0.
            var document = XDocument.Load(reader);
            document.Root!.SetAttributeValue("version", "2.0");
            using var fixedReader = document.CreateReader();
            formatter.ReadFrom(fixedReader);
        }
        else
        {
            formatter.ReadFrom(reader);
        }
        var feed = formatter.Feed;

        var feedBase = Combine(feedUrl, feed.BaseUri);
        var entries = new FeedEntries();
        foreach (var item in feed.Items)
        {
            var itemBase = Combine(feedBase, item.BaseUri);
            var extensions = Extensions(item);
            var link = item.Links
                .Where(l => string.IsNullOrEmpty(l.RelationshipType) || l.RelationshipType == "alternate")
                .Select(l => FeedUrl.Resolve(Combine(itemBase, l.BaseUri), l.Uri))
                .FirstOrDefault(l => l is not null);
            var encoded = extensions.FirstOrDefault(e => e.Name == XName.Get("encoded", ContentModule))?.Value;
            var content = (item.Content as TextSyndicationContent)?.Text;
            var summaryHtml = new[] { item.Summary?.Text, encoded, content }.FirstOrDefault(s => !string.IsNullOrWhiteSpace(s));
            entries.Add(
                id: item.Id,
                title: TitleText(item.Title, isRss),
                link: link,
                summary: FeedText.HtmlToText(summaryHtml),
                imageUrl: Image(item, extensions, itemBase, encoded ?? content ?? item.Summary?.Text),
                categories: item.Categories.SelectMany(c => new[] { c.Name, c.Label }),
                publishedUtc: FeedDates.ToUtc(item.PublishDate) ?? FeedDates.ToUtc(item.LastUpdatedTime) ?? DublinCoreDate(extensions));
        }
        return (entries.ToList(), feed.Title is null ? null : NullIfEmpty(TitleText(feed.Title, isRss)));
    }

    private static T Lenient<T>(T formatter) where T : SyndicationFeedFormatter
    {
        // Returning false makes Syndication throw for the whole document; an unreadable date is "unknown" instead.
        formatter.DateTimeParser = (XmlDateTimeData data, out DateTimeOffset value) =>
        {
            if (!FeedDates.TryParse(data.DateTimeString, out value)) value = DateTimeOffset.MinValue;
            return true;
        };
        // Likewise an unparseable href: a sentinel that no rule accepts as a web link, instead of losing the feed.
        formatter.UriParser = (XmlUriData data, out Uri? uri) =>
        {
            if (!Uri.TryCreate(data.UriString?.Trim(), data.UriKind, out uri)) uri = InvalidLink;
            return true;
        };
        return formatter;
    }

    private static readonly Uri InvalidLink = new("x-invalid:link");

    // RSS titles are de facto HTML (readers decode "&amp;amp;" and drop tags there); Atom says so per element.
    private static string TitleText(TextSyndicationContent? title, bool isRss) =>
        title is null ? "" : isRss || title.Type is "html" or "xhtml" ? FeedText.HtmlToText(title.Text) : FeedText.CollapseWhitespace(title.Text);

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static Uri Combine(Uri baseUrl, Uri? relative) =>
        relative is null ? baseUrl : relative.IsAbsoluteUri ? relative : Uri.TryCreate(baseUrl, relative, out var combined) ? combined : baseUrl;

    private static List<XElement> Extensions(SyndicationItem item)
    {
        var elements = new List<XElement>();
        foreach (var extension in item.ElementExtensions)
        {
            if (extension.OuterNamespace is not (MediaRss or ContentModule or DublinCore)) continue;
            using var reader = extension.GetReader();
            reader.MoveToContent();
            if (XNode.ReadFrom(reader) is XElement element) elements.Add(element);
        }
        return elements;
    }

    /// <summary>media:content / media:thumbnail (also inside media:group), an image enclosure, then the first img of the HTML.</summary>
    private static string? Image(SyndicationItem item, List<XElement> extensions, Uri itemBase, string? html)
    {
        var media = extensions
            .SelectMany(e => e.Name == XName.Get("group", MediaRss) ? e.Elements() : [e])
            .Where(e => e.Name.NamespaceName == MediaRss);
        foreach (var element in media.Where(e => e.Name.LocalName == "content" && IsImage(e)).Concat(media.Where(e => e.Name.LocalName == "thumbnail")))
        {
            var url = FeedUrl.Resolve(itemBase, (string?)element.Attribute("url"));
            if (url is not null) return url;
        }
        foreach (var enclosure in item.Links.Where(l => l.RelationshipType == "enclosure" && l.MediaType?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) == true))
        {
            var url = FeedUrl.Resolve(Combine(itemBase, enclosure.BaseUri), enclosure.Uri);
            if (url is not null) return url;
        }
        return FeedUrl.Resolve(itemBase, FeedText.FirstImageSource(html));
    }

    private static bool IsImage(XElement content)
    {
        var medium = (string?)content.Attribute("medium");
        var type = (string?)content.Attribute("type");
        if (medium is not null) return medium.Equals("image", StringComparison.OrdinalIgnoreCase);
        if (type is not null) return type.StartsWith("image/", StringComparison.OrdinalIgnoreCase);
        var url = (string?)content.Attribute("url") ?? "";
        return ImageExtensions.Any(e => url.Split('?')[0].EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"];

    private static DateTime? DublinCoreDate(List<XElement> extensions)
    {
        var date = extensions.FirstOrDefault(e => e.Name == XName.Get("date", DublinCore))?.Value;
        return FeedDates.TryParse(date, out var value) ? value.UtcDateTime : null;
    }

}
