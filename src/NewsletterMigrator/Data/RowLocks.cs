using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// Check-and-act on one subscriber (a per-address limit, the DOI cap, "confirm once", "unsubscribe once") is
/// atomic only if the check reads what a simultaneous act wrote. The helpers run inside the caller's
/// transaction and hold the lock until its commit, across processes too:
/// <list type="bullet">
/// <item>SQLite: EF begins every transaction IMMEDIATE (Microsoft.Data.Sqlite's default), so the transaction holds
/// the database's write lock from its first statement; other writers, in this process or another one on the same
/// file, wait for the commit (busy timeout) and then read what it wrote.</item>
/// <item>A server database (PostgreSQL, planned): the no-op UPDATE takes the row's lock until the commit, so requests
/// for the same subscriber run one after another while all others go on. A process-local lock could not do this
/// with several instances.</item>
/// </list>
/// A row that does not exist yet cannot be locked: its first insert is decided by the unique index (<see cref="UniqueViolation"/>).
/// </summary>
public static class RowLocks
{
    /// <summary>Locks the subscriber's row and reloads it, since another request may have changed it; false when it is gone (erased meanwhile).</summary>
    public static async Task<bool> LockAsync(this AppDbContext db, Subscriber subscriber, CancellationToken ct = default)
    {
        db.RequireTransaction(LockNeedsTransaction);
        var locked = await db.Subscribers.Where(s => s.Id == subscriber.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Language, s => s.Language), ct);
        if (locked == 0)
        {
            db.Entry(subscriber).State = EntityState.Detached;
            return false;
        }
        await db.Entry(subscriber).ReloadAsync(ct);
        return true;
    }

    /// <summary>
    /// Locks every existing row of <paramref name="rows"/> with one statement (so in the index's order: two instances
    /// locking overlapping sets cannot deadlock on each other's half); read them after this, in the same transaction.
    /// Used for the addresses of a sign-up batch.
    /// </summary>
    public static async Task LockAsync(this AppDbContext db, IQueryable<Subscriber> rows, CancellationToken ct = default)
    {
        db.RequireTransaction(LockNeedsTransaction);
        await rows.ExecuteUpdateAsync(u => u.SetProperty(s => s.Language, s => s.Language), ct);
    }

    /// <summary>
    /// Locks every staff account's row, for a rule over all of them ("one active admin remains"): a concurrent change
    /// waits for the commit and then counts what it wrote. Staff are a handful of rows.
    /// </summary>
    public static async Task LockStaffAsync(this AppDbContext db, CancellationToken ct = default)
    {
        db.RequireTransaction(LockNeedsTransaction);
        await db.Users.ExecuteUpdateAsync(u => u.SetProperty(x => x.Language, x => x.Language), ct);
    }

    private const string LockNeedsTransaction = "A row lock lasts until the commit";
}
