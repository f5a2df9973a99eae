using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Only one instance reads the bounce mailbox: the one holding the lease on the <see cref="MailboxState"/> row. Two readers
/// would fetch the same mails and race to move them; the processor would still record each once, but the second move fails
/// and both would log in. Each statement is one conditional UPDATE of that row, so two instances can never both succeed.
/// </summary>
internal static class MailboxLease
{
    /// <summary>
    /// Takes the lease when nobody holds it, it has run out, it is already ours, or an earlier run of this instance left it
    /// behind when it died (<paramref name="earlierRunsPrefix"/>): a restarted instance reads again at once instead of waiting.
    /// </summary>
    public static async Task<bool> TryTakeAsync(AppDbContext db, string owner, string? earlierRunsPrefix, DateTime now, DateTime expires, CancellationToken ct) =>
        await db.MailboxStates
            .Where(s => s.Id == MailboxState.SingleId
                && (s.LeaseOwner == null || s.LeaseExpiresAtUtc < now || s.LeaseOwner == owner
                    || (earlierRunsPrefix != null && s.LeaseOwner.StartsWith(earlierRunsPrefix))))
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.LeaseOwner, owner)
                .SetProperty(s => s.LeaseExpiresAtUtc, expires), ct) == 1;

    /// <summary>Extends the lease while it is still ours; false when another instance has taken it over meanwhile.</summary>
    public static async Task<bool> RenewAsync(AppDbContext db, string owner, DateTime expires, CancellationToken ct) =>
        await db.MailboxStates
            .Where(s => s.Id == MailboxState.SingleId && s.LeaseOwner == owner)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseExpiresAtUtc, expires), ct) == 1;

    /// <summary>
    /// Extends the lease and records a check that got through, with the mails waiting for a person; false (and nothing
    /// written) when the lease is no longer ours.
    /// </summary>
    public static async Task<bool> RecordSuccessAsync(AppDbContext db, string owner, DateTime now, DateTime expires,
        int needsAttention, DateTime? oldestUtc, CancellationToken ct) =>
        await db.MailboxStates
            .Where(s => s.Id == MailboxState.SingleId && s.LeaseOwner == owner)
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.LeaseExpiresAtUtc, expires)
                .SetProperty(s => s.LastSuccessAtUtc, now)
                .SetProperty(s => s.ConsecutiveErrors, 0)
                .SetProperty(s => s.NeedsAttentionCount, needsAttention)
                .SetProperty(s => s.NeedsAttentionOldestUtc, oldestUtc), ct) == 1;

    /// <summary>Records why the mailbox could not be read; written by the instance that tried, lease or not.</summary>
    public static Task RecordErrorAsync(AppDbContext db, string error, DateTime now, CancellationToken ct) =>
        db.MailboxStates
            .Where(s => s.Id == MailboxState.SingleId)
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.LastError, error)
                .SetProperty(s => s.ConsecutiveErrors, s => s.ConsecutiveErrors + 1)
                .SetProperty(s => s.LastErrorAtUtc, now), ct);

    /// <summary>On a clean stop: another instance may take over at once instead of after the lease runs out.</summary>
    public static Task ReleaseAsync(AppDbContext db, string owner, CancellationToken ct) =>
        db.MailboxStates
            .Where(s => s.Id == MailboxState.SingleId && s.LeaseOwner == owner)
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.LeaseOwner, (string?)null)
                .SetProperty(s => s.LeaseExpiresAtUtc, (DateTime?)null), ct);
}
