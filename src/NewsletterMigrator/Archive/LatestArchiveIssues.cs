using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Archive;

/// <summary>
/// Sending's <see cref="ILatestIssues"/> (the welcome mail lists them): the archive's latest shown issues, newest first, at
/// their public addresses; none when the archive is off. An unlisted archive's issues are listed too: their addresses
/// are public, only the list page and the feed are not.
/// </summary>
public sealed class LatestArchiveIssues(ArchiveService archive, IOptions<AppOptions> app) : ILatestIssues
{
    public async Task<IReadOnlyList<ArchivedIssue>> LatestAsync(Newsletter newsletter, int count, CancellationToken ct = default) =>
        (await archive.LatestAsync(newsletter, count, withBodies: false, ct))
        .Select(i => new ArchivedIssue(i.Subject, app.Value.Link(ArchiveAddress.IssuePath(newsletter.Slug, i.ArchiveSlug)), i.SentAtUtc))
        .ToList();
}
