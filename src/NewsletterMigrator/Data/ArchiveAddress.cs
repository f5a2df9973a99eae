namespace NewsletterMigrator.Data;

/// <summary>
/// Where an issue's public copy lives and whether it is shown (issue 21). Here, beside the records it reads, because both
/// the archive pages and the mail builder ("view in browser") need the one rule, and Sending may not depend on a feature.
/// </summary>
public static class ArchiveAddress
{
    public static string IssuePath(string newsletterSlug, string archiveSlug) =>
        $"/n/{Uri.EscapeDataString(newsletterSlug)}/archive/{Uri.EscapeDataString(archiveSlug)}";

    /// <summary>
    /// The issue's public path; null when the archive is off, the issue has no archive address (not started, or a test
    /// mail of a draft) or an admin withdrew it.
    /// </summary>
    public static string? PublicIssuePath(Newsletter newsletter, Campaign campaign) =>
        newsletter.Archive == ArchiveMode.Off || campaign.ArchiveSlug is null || campaign.ArchiveWithdrawnAtUtc is not null
            ? null
            : IssuePath(newsletter.Slug, campaign.ArchiveSlug);
}
