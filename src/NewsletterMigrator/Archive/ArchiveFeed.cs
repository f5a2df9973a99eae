using System.ServiceModel.Syndication;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Archive;

/// <summary>
/// /n/{slug}/archive/feed.xml: RSS 2.0 of a public archive's latest <see cref="ArchiveService.FeedSize"/> issues, written by
/// System.ServiceModel.Syndication. Each item: the subject, the issue's public address as link and guid, the start as
/// pubDate, the preheader (or a plain-text excerpt) as description and the body as content:encoded. Every address comes
/// from App:PublicBaseUrl (C29): a feed reader keeps what it fetched, a forged Host would stay in it.
/// </summary>
public static class ArchiveFeed
{
    private static readonly XNamespace Content = "http://purl.org/rss/1.0/modules/content/";
    private const int ExcerptLength = 300;

    internal static async Task<IResult> ServeAsync(string slug, ArchiveService archive, IOptions<AppOptions> app, HttpContext context, CancellationToken ct)
    {
        if (await archive.FeedAsync(slug, ct) is not var (newsletter, issues))
        {
            ArchiveResponses.Robots(context.Response, indexable: false);
            return Results.NotFound();
        }
        ArchiveResponses.Robots(context.Response, ArchiveService.Indexable(newsletter));
        ArchiveResponses.Cacheable(context.Response, byLanguage: false);
        return Results.Bytes(Write(app.Value, newsletter, issues), "application/rss+xml; charset=utf-8");
    }

    public static byte[] Write(AppOptions app, Newsletter newsletter, IReadOnlyList<ArchiveEntry> issues)
    {
        var feed = new SyndicationFeed(newsletter.Name, newsletter.Name, new Uri(ArchiveLinks.ListUrl(app, newsletter)))
        {
            Language = newsletter.DefaultLanguage,
            LastUpdatedTime = issues.Count == 0 ? DateTimeOffset.UnixEpoch : Utc(issues[0].SentAtUtc),
        };
        // rel="self" becomes atom:link, which feed validators ask for.
        feed.Links.Add(new SyndicationLink(new Uri(ArchiveLinks.FeedUrl(app, newsletter)), "self", null, "application/rss+xml", 0));
        feed.AttributeExtensions.Add(new XmlQualifiedName("content", XNamespace.Xmlns.NamespaceName), Content.NamespaceName);
        feed.Items = issues.Select(issue =>
        {
            var url = app.Link(ArchiveAddress.IssuePath(newsletter.Slug, issue.ArchiveSlug));
            var item = new SyndicationItem(issue.Subject, Description(issue), new Uri(url), url, Utc(issue.SentAtUtc))
            {
                PublishDate = Utc(issue.SentAtUtc),
            };
            item.ElementExtensions.Add(new XElement(Content + "encoded", new XCData(issue.BodyHtml ?? "")).CreateReader());
            return item;
        }).ToList();

        using var buffer = new MemoryStream();
        using (var writer = XmlWriter.Create(buffer, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Async = false }))
            new Rss20FeedFormatter(feed, serializeExtensionsAsAtom: false).WriteTo(writer);
        return buffer.ToArray();
    }

    /// <summary>The preheader where the editor wrote one, else the start of the body as plain text.</summary>
    private static string Description(ArchiveEntry issue)
    {
        if (!string.IsNullOrWhiteSpace(issue.Preheader)) return issue.Preheader.Trim();
        var text = MarkdownRenderer.ToPlainText(issue.BodyMarkdown).ReplaceLineEndings(" ");
        return text.Length <= ExcerptLength ? text : text[..ExcerptLength].TrimEnd() + "…";
    }

    private static DateTimeOffset Utc(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
}
