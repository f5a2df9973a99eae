using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

/// <summary>
/// The imports this process holds (issue 18: several instances, one database). An import's batch names the
/// process that queued it (<see cref="ImportBatch.LeaseOwner"/>) and an expiry, which a loop here renews about
/// every second (<see cref="ImportOptions.HeartbeatInterval"/>) for every batch the process has queued or is
/// running, writing a running one's bytes read on the way (its rows are written with each chunk). So the progress
/// page of any instance shows the figures, and a batch whose process died is recognised by any instance once its
/// lease has expired (<see cref="ImportSweeper"/>). One small UPDATE per held batch and second: nothing on the
/// import's hot path, which only moves <see cref="ImportProgress"/> in memory as before.
/// At each renewal the loop also learns whether an editor, on any instance, asked to cancel, and whether the batch
/// is still this process's: a renewal that finds another owner means another instance has taken it over as
/// crashed (this process paused longer than the lease), and the import stops rather than write into it.
/// </summary>
public sealed class ImportLeases : IAsyncDisposable
{
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly ILogger<ImportLeases> _logger;
    private readonly ConcurrentDictionary<int, Holding> _held = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ImportLeases(InstanceIdentity instance, IOptions<ImportOptions> options, IServiceScopeFactory scopes, TimeProvider clock, ILogger<ImportLeases> logger)
    {
        Owner = instance.NewLeaseOwner();
        Duration = options.Value.LeaseDuration;
        Interval = options.Value.HeartbeatInterval;
        _scopes = scopes;
        _clock = clock;
        _logger = logger;
        // A loop of its own rather than a hosted service: the command line's import verb runs no hosted services.
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>This process's name on the batches it holds: the instance id, then a part new with every start.</summary>
    public string Owner { get; }
    public TimeSpan Duration { get; }
    public TimeSpan Interval { get; }

    /// <summary>The expiry a lease taken or renewed now gets.</summary>
    public DateTime ExpiryFromNow() => _clock.GetUtcNow().UtcDateTime + Duration;

    /// <summary>Keeps the batch's lease alive until the holding is disposed; its token stops the import when an editor cancels or the lease is lost.</summary>
    public Holding Hold(int batchId)
    {
        var holding = new Holding(this, batchId);
        _held[batchId] = holding;
        return holding;
    }

    /// <summary>The job has ended and its upload has left the spool: the batch is nobody's now (its page shows the outcome).</summary>
    public async Task ReleaseAsync(int batchId)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var now = _clock.GetUtcNow().UtcDateTime;
            await scope.ServiceProvider.GetRequiredService<AppDbContext>().ImportBatches.Where(b => b.Id == batchId && b.LeaseOwner == Owner)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.LeaseOwner, (string?)null).SetProperty(b => b.LeaseExpiresAtUtc, (DateTime?)null)
                    .SetProperty(b => b.FinishedAtUtc, now), CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The lease then simply expires: the page shows the outcome a minute later.
            _logger.LogWarning(ex, "Could not release import batch {BatchId}", batchId);
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (_held.IsEmpty) continue;
                try
                {
                    await RenewAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A busy or unreachable database: the next tick tries again, well before the lease ends.
                    _logger.LogWarning(ex, "Could not renew the leases of this instance's imports");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RenewAsync(CancellationToken ct)
    {
        var held = _held.Values.ToArray();
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var until = ExpiryFromNow();
        foreach (var holding in held)
        {
            var mine = db.ImportBatches.Where(b => b.Id == holding.BatchId && b.LeaseOwner == Owner);
            var renewed = holding.Progress is { } progress
                ? await mine.ExecuteUpdateAsync(u => u.SetProperty(b => b.LeaseExpiresAtUtc, until).SetProperty(b => b.BytesRead, progress.Bytes), ct)
                : await mine.ExecuteUpdateAsync(u => u.SetProperty(b => b.LeaseExpiresAtUtc, until), ct);
            if (renewed == 0 && !holding.Disposed) holding.Stop("Import_Interrupted", _logger);
        }
        var ids = held.Select(h => h.BatchId).ToList();
        var cancelled = await db.ImportBatches.Where(b => ids.Contains(b.Id) && b.LeaseOwner == Owner && b.CancelRequested).Select(b => b.Id).ToListAsync(ct);
        foreach (var id in cancelled)
        {
            if (_held.TryGetValue(id, out var holding)) holding.Stop("Import_Cancelled", _logger);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>One held batch. <see cref="Token"/> is cancelled, with <see cref="StopKey"/> saying why, when the import must stop.</summary>
    public sealed class Holding : IDisposable
    {
        private readonly ImportLeases _leases;
        private readonly CancellationTokenSource _stop = new();

        internal Holding(ImportLeases leases, int batchId)
        {
            _leases = leases;
            BatchId = batchId;
        }

        public int BatchId { get; }
        public CancellationToken Token => _stop.Token;

        /// <summary>Import_Cancelled (an editor asked) or Import_Interrupted (the lease went to another instance); null while it may go on.</summary>
        public string? StopKey { get; private set; }

        /// <summary>The running import's figures, written with each renewal; null while it is queued.</summary>
        public ImportProgress? Progress { get; set; }

        internal bool Disposed { get; private set; }

        internal void Stop(string key, ILogger logger)
        {
            if (StopKey is not null) return;
            StopKey = key;
            logger.LogInformation("Import batch {BatchId} stops: {Reason}", BatchId, key);
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            Disposed = true;
            _leases._held.TryRemove(new KeyValuePair<int, Holding>(BatchId, this));
            _stop.Dispose();
        }
    }
}
