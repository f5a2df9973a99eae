using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Subscribers;

/// <summary>
/// The one writer of single suppression rows (C18): erasure, objections (C41) and an admin's suppression all
/// add their keyed hash here. The opt-out list import writes its rows in bulk, after the same check.
/// </summary>
public sealed class SuppressionList(AppDbContext db)
{
    /// <summary>Adds the hash unless it is listed already; true when it is new.</summary>
    public async Task<bool> AddAsync(SuppressionKind kind, byte[] hash, string reason, DateTime now, CancellationToken ct = default)
    {
        if (await db.Suppressions.AnyAsync(s => s.Kind == kind && s.Hash == hash, ct)) return false;
        var row = db.Suppressions.Add(new Suppression { Kind = kind, Hash = hash, Reason = reason, CreatedAtUtc = now });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (UniqueViolation.Is(e))
        {
            // The same STOP twice at once (a webhook retried): the other request listed it; the unique index held.
            row.State = EntityState.Detached;
            if (await db.Suppressions.AnyAsync(s => s.Kind == kind && s.Hash == hash, ct)) return false;
            throw;
        }
    }
}
