using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Removes imports whose process died (all or nothing: the batch and everything it wrote go), on every instance,
/// at start and then twice per <see cref="ImportOptions.LeaseDuration"/>. A batch is removed only once its lease
/// has expired: the instance running an import renews it about every second (<see cref="ImportLeases"/>), so no
/// instance ever removes an import another live instance is running. The one exception is a restarted instance's
/// own: batches an earlier run of this instance held (<see cref="InstanceIdentity.EarlierRunsPrefix"/>) are dead for
/// certain and go at once. The upload of a removed import lay in the dead instance's data folder; it is not
/// resumed elsewhere, and its page tells the editor to upload the list again.
/// Also deletes, a day after they ended, the emptied batches kept to show a failed or cancelled import's reason,
/// and uploads nobody imported.
/// </summary>
public sealed class ImportSweeper(ImportLeases leases, InstanceIdentity instance, ImportSpool spool, IServiceScopeFactory scopes, TimeProvider clock,
    IOptions<ImportOptions> options, ILogger<ImportSweeper> logger) : BackgroundService
{
    /// <summary>How long a failed or cancelled import's emptied batch keeps showing its reason.</summary>
    public static readonly TimeSpan OutcomeKept = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await SweepAsync(stoppingToken);
                await Task.Delay(options.Value.LeaseDuration / 2, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass; returns the number of crashed imports removed.</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        var removed = 0;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
            var now = clock.GetUtcNow().UtcDateTime;
            var crashed = await Crashed(db, now).Select(b => b.Id).ToListAsync(ct);
            foreach (var id in crashed)
            {
                // Claimed first, in one statement that checks the lease again: of two instances sweeping at once one removes it,
                // and an owner that was only slow (it renews again) can no longer write a chunk or complete (ChunkWriter checks the owner).
                var until = leases.ExpiryFromNow();
                var claimed = await Crashed(db, now).Where(b => b.Id == id)
                    .ExecuteUpdateAsync(u => u.SetProperty(b => b.LeaseOwner, leases.Owner).SetProperty(b => b.LeaseExpiresAtUtc, until), ct);
                if (claimed == 0) continue;
                logger.LogWarning("Import batch {BatchId} was left unfinished by an instance that stopped; removing it", id);
                await importer.DiscardAsync(id);
                removed++;
            }
            var kept = now - OutcomeKept;
            await db.ImportBatches.Where(b => b.Status == ImportStatus.Failed && (b.FinishedAtUtc ?? b.CreatedAtUtc) < kept
                    && (b.LeaseExpiresAtUtc == null || b.LeaseExpiresAtUtc < now))
                .ExecuteDeleteAsync(ct);
            spool.Sweep(TimeSpan.FromDays(1));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not sweep unfinished imports; trying again later");
        }
        return removed;
    }

    /// <summary>
    /// Running batches nobody holds: the lease expired, or there is none (a batch from before leases), or an earlier run
    /// of this instance held it.
    /// </summary>
    private IQueryable<ImportBatch> Crashed(AppDbContext db, DateTime now)
    {
        var earlier = instance.EarlierRunsPrefix;
        var mine = leases.Owner;
        return db.ImportBatches.Where(b => b.Status == ImportStatus.Running
            && (b.LeaseExpiresAtUtc == null || b.LeaseExpiresAtUtc < now || b.LeaseOwner == null
                || (earlier != null && b.LeaseOwner != mine && b.LeaseOwner.StartsWith(earlier))));
    }
}
