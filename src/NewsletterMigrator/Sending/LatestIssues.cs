using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>One issue of a newsletter's public archive as a mail lists it: its subject, public address and when it was sent.</summary>
public sealed record ArchivedIssue(string Subject, string Url, DateTime SentAtUtc);

/// <summary>
/// The latest issues of a newsletter's archive, for the welcome mail (issue 21). Sending owns this interface and the
/// archive feature implements it, so the mail builder lists issues without depending on the archive (arrows point down).
/// Empty when the newsletter's archive is off.
/// </summary>
public interface ILatestIssues
{
    Task<IReadOnlyList<ArchivedIssue>> LatestAsync(Newsletter newsletter, int count, CancellationToken ct = default);
}
