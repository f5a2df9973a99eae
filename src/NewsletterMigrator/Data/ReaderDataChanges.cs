using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace NewsletterMigrator.Data;

/// <summary>
/// A counter that moves whenever this process saves something a reader's page is built from: a newsletter (settings,
/// legal identity, embed origins, logo), a consent-text version, a completed import (its legal basis is part of the
/// Art. 13 text). Caches of reader data (<c>Consent.ReaderCache</c>) drop what they loaded under an older value.
/// Tracked saves are seen by <see cref="ReaderDataChangesInterceptor"/> wherever they happen (admin pages, verbs,
/// services, other features' future settings); an ExecuteUpdate of such a row must call <see cref="Bump"/> itself.
/// </summary>
public sealed class ReaderDataChanges
{
    private long _version;

    public long Version => Volatile.Read(ref _version);

    public void Bump() => Interlocked.Increment(ref _version);

    internal static bool Concerns(Type type) =>
        type == typeof(Newsletter) || type == typeof(ConsentText) || type == typeof(ImportBatch) || type == typeof(NewsletterLogo);
}

/// <summary>
/// Bumps <see cref="ReaderDataChanges"/> before and after a save that adds, changes or removes reader data. Before: a page
/// that loads during the save keeps its stale result only under the old version. After: one that loaded between the bump
/// and the write does not keep it either. A save inside a longer transaction is visible to others only at its commit;
/// a page loading in between may keep the old state for one cache lifetime (Consent:ReaderCacheLifetime, seconds).
/// </summary>
internal sealed class ReaderDataChangesInterceptor : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Signal(eventData.Context, before: true);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Signal(eventData.Context, before: true);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Signal(eventData.Context, before: false);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Signal(eventData.Context, before: false);
        return ValueTask.FromResult(result);
    }

    private static void Signal(DbContext? context, bool before)
    {
        if (context is not AppDbContext db) return;
        if (before)
        {
            db.SavesReaderData = db.ChangeTracker.Entries().Any(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted
                                                                     && ReaderDataChanges.Concerns(e.Metadata.ClrType));
            if (!db.SavesReaderData) return;
        }
        else if (!db.SavesReaderData) return;
        db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider?
            .GetService<ReaderDataChanges>()?.Bump();
    }
}
