using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Archive;

/// <summary>
/// The archive's public addresses, absolute from App:PublicBaseUrl and never from a request's Host header (C29): they go
/// into mails ("view in browser"), the RSS feed and the welcome mail, where a forged Host would send readers elsewhere.
/// </summary>
public static class ArchiveLinks
{
    public static string ListPath(string newsletterSlug) => $"/n/{Uri.EscapeDataString(newsletterSlug)}/archive";

    public static string IssuePath(string newsletterSlug, string archiveSlug) => ArchiveAddress.IssuePath(newsletterSlug, archiveSlug);

    public static string FeedPath(string newsletterSlug) => $"{ListPath(newsletterSlug)}/feed.xml";

    /// <summary>The newsletter's general sign-up page (Pages/Join/General), linked from every archive page.</summary>
    public static string SignUpPath(string newsletterSlug) => $"/n/{Uri.EscapeDataString(newsletterSlug)}";

    /// <summary>
    /// The absolute public address of an issue, for the "view in browser" link of its mails; null when the archive is
    /// off, the issue has no archive address (not started, or a test mail of a draft) or an admin withdrew it.
    /// </summary>
    public static string? IssueUrl(AppOptions app, Newsletter newsletter, Campaign campaign) =>
        ArchiveAddress.PublicIssuePath(newsletter, campaign) is { } path ? app.Link(path) : null;

    public static string ListUrl(AppOptions app, Newsletter newsletter) => app.Link(ListPath(newsletter.Slug));

    public static string FeedUrl(AppOptions app, Newsletter newsletter) => app.Link(FeedPath(newsletter.Slug));

    public static string SignUpUrl(AppOptions app, Newsletter newsletter) => app.Link(SignUpPath(newsletter.Slug));
}
