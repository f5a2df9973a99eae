using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// A restarted instance takes back the outbox rows its crashed predecessor held. (Taking due rows is the provider's
/// statement, <see cref="IBulkSql.LeaseOutboxAsync"/>.)
/// </summary>
internal static class OutboxLease
{
    /// <summary>
    /// Returns to the queue the rows an earlier run of this instance still held when it died, so they go
    /// out now rather than after <see cref="Common.SendingOptions.LeaseDuration"/>. Called once at start,
    /// before this run leases anything; leases of other instances are left to expire.
    /// Such a row was in one of three states when the process died: not yet tried; accepted by the SMTP
    /// server but its result not yet written (<see cref="DeliveryResults"/> writes in batches); or in the
    /// middle of its SMTP transaction, where the server may have taken the DATA just before the process
    /// died and nobody can know. None of them is marked Sent, and nothing tells them apart afterwards, so
    /// each is sent again with its stable Message-ID: the same rows and the same recognisable duplicate
    /// as when the lease expires, only without the wait. A row recorded as Sent is never leased, so mail
    /// known to be delivered never goes twice. Attempts are not counted, as on expiry.
    /// </summary>
    public static Task<int> ReleaseEarlierRunsAsync(AppDbContext db, string earlierRunsPrefix, string currentOwner, CancellationToken ct) =>
        db.OutboundMessages
            .Where(m => m.Status == MessageStatus.Leased && m.LeaseOwner!.StartsWith(earlierRunsPrefix) && m.LeaseOwner != currentOwner)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, MessageStatus.Queued)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseExpiresAtUtc, (DateTime?)null), ct);
}
