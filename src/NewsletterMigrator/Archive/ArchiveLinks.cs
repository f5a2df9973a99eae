using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Archive;

/// <summary>
/// The archive's public addresses, absolute from App:PublicBaseUrl and never from a request's Host header (C29): they go
/// into the RSS feed and the welcome mail, where a forged Host would send readers elsewhere. An issue's own address is
/// <see cref="ArchiveAddress"/>'s, beside the records, since the mails' "view in browser" link needs it too.
/// </summary>
public static class ArchiveLinks
{
    public static string ListPath(string newsletterSlug) => $"/n/{Uri.EscapeDataString(newsletterSlug)}/archive";

    public static string FeedPath(string newsletterSlug) => $"{ListPath(newsletterSlug)}/feed.xml";

    /// <summary>The newsletter's general sign-up page (Pages/Join/General), linked from every archive page.</summary>
    public static string SignUpPath(string newsletterSlug) => $"/n/{Uri.EscapeDataString(newsletterSlug)}";

    public static string ListUrl(AppOptions app, Newsletter newsletter) => app.Link(ListPath(newsletter.Slug));

    public static string FeedUrl(AppOptions app, Newsletter newsletter) => app.Link(FeedPath(newsletter.Slug));
}
