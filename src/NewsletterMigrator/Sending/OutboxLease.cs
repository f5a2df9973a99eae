using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// The outbox lease: <see cref="TakeAsync"/> hands a worker the due rows no other worker holds (the provider's statement,
/// <see cref="IBulkSql.LeaseOutboxAsync"/>), and a restarted instance takes back what its crashed predecessor held.
/// </summary>
internal static class OutboxLease
{
    /// <summary>Leases up to <paramref name="take"/> due rows to <paramref name="owner"/>; returns the ids it got.</summary>
    public static Task<IReadOnlyList<long>> TakeAsync(AppDbContext db, IBulkSql bulk, int take, string owner, DateTime now, TimeSpan duration, CancellationToken ct) =>
        bulk.LeaseOutboxAsync(db, new OutboxLeaseRequest(owner, take, now, duration), ct);

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
