using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>
/// C42: at most <c>Consent:DoiMailsPerAddressPerDay</c> DOI-type mails per 24 hours, across every path
/// that queues one: the sign-up pages, the "send a new link" button of an expired link, and the DOI to a
/// new address on the preference page.
///
/// Counted in the consent ledger, not the outbox: every such mail has its ledger entry (DoiQueued,
/// AddressChangeRequested) written in the same transaction, the ledger is append-only (nothing cancels,
/// scrubs or deletes its rows within a day, unlike outbox rows), and it is indexed by SubscriberId, so
/// the count is one short index range. The outbox's recipient column has no index.
/// The unit is the subscriber row, which is one address per newsletter (unique EmailKey): its DoiQueued
/// entries are the DOI mails to that address. A DOI to a new address is counted by its AddressChangeRequested
/// entries against the requesting subscriber: only a confirmed reader holding a fresh access link from their
/// own mailbox can ask for one, so that path is no anonymous flood of a stranger's inbox.
/// The count only decides when it is taken under the subscriber's lock (<see cref="Data.RowLocks"/>), in the
/// transaction that queues the mail: otherwise simultaneous requests all count the same number and all pass.
/// </summary>
public static class DoiCap
{
    /// <summary>The cap counts the entries of this window before now.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <param name="kind">DoiQueued for the subscriber's own address, AddressChangeRequested for the DOI to a new one.</param>
    public static async Task<bool> ReachedAsync(AppDbContext db, Guid subscriberId, ConsentEventKind kind, int perDay, DateTime nowUtc, CancellationToken ct)
    {
        var since = nowUtc - Window;
        var count = await db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriberId && e.Kind == kind && e.OccurredAtUtc > since, ct);
        return Reached(count, perDay);
    }

    /// <summary>The rule itself, for a count taken elsewhere (the sign-up batch counts the ledger in memory, <see cref="SignUpBatch"/>).</summary>
    public static bool Reached(int countInWindow, int perDay) => countInWindow >= Math.Max(1, perDay);
}
