using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// "Opened" stamps of personal invitation links (the funnel's second step), written off the request (issue 17: no
/// database write on any GET). Before, each first open ran an UPDATE inside the GET; with many different tokens nearly
/// every GET /i/{token} was a write waiting for SQLite's single write lock, behind sign-ups. Now the page only queues
/// the contact's id; a background loop writes what gathered within <see cref="Window"/> in one transaction, and the
/// host's shutdown flushes the rest.
/// What a crash (kill -9, power cut) can lose: the opens of at most the last window, so the funnel's "opened" count can
/// be that much low; nothing a reader or the consent proof depends on. Preview fetchers never get here (C35).
/// A batch that fails (the database locked longer than the busy timeout, a full disk) is kept and tried again, with a
/// growing pause, up to <see cref="MaxAttempts"/> times; the loop itself never stops. While it cannot write, the queue
/// holds at most <see cref="Capacity"/> opens and drops newer ones (counted in the log): a queued open carries the
/// earlier time, which is the one the funnel keeps (first open wins), and a reader who opens their link again is queued again.
/// </summary>
public sealed class InvitationOpens(IServiceScopeFactory scopes, TimeProvider clock, ILogger<InvitationOpens> logger) : IHostedService
{
    /// <summary>Opens gathered per transaction; a few thousand stamps are a few ms of SQLite work.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(500);
    private const int MaxBatch = 2_000;

    /// <summary>Opens queued at most: about 3 MB, some minutes of a busy evening's opens.</summary>
    internal const int Capacity = 100_000;

    /// <summary>Tries of one batch before its opens are given up (logged).</summary>
    internal const int MaxAttempts = 5;

    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);

    private readonly Channel<(Guid ContactId, DateTime OpenedAtUtc)> _queue =
        Channel.CreateBounded<(Guid, DateTime)>(new BoundedChannelOptions(Capacity) { SingleReader = false, FullMode = BoundedChannelFullMode.Wait });
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private int _started;
    private long _dropped;

    // The batch that failed last and its tries so far; only touched under _writing.
    private List<(Guid ContactId, DateTime OpenedAtUtc)>? _failed;
    private int _attempts;

    /// <summary>The reader opened their invitation now; written within <see cref="Window"/>, the first open wins.</summary>
    public void Record(Guid contactId)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            // Not the first request's ExecutionContext (its HttpContext, logging scope, activity) for the life of the process.
            using (ExecutionContext.SuppressFlow()) _ = Task.Run(LoopAsync);
        }
        // Full (with Wait, TryWrite refuses rather than blocks): drop this one, the newest.
        if (!_queue.Writer.TryWrite((contactId, clock.GetUtcNow().UtcDateTime)))
        {
            var dropped = Interlocked.Increment(ref _dropped);
            if (dropped == 1 || dropped % 1_000 == 0)
                logger.LogWarning("The queue of invitation opens is full ({Capacity}); {Dropped} opens were not recorded so far", Capacity, dropped);
        }
    }

    /// <summary>
    /// Writes the opens queued when called (shutdown; a report or test that must see them), not those that arrive
    /// meanwhile: under a steady stream of opens a report must not wait for a queue that never empties.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        var remaining = _queue.Reader.Count;
        while (remaining > 0 || Volatile.Read(ref _failed) is not null)
        {
            var taken = await WriteBatchAsync(Math.Min(remaining, MaxBatch), ct);
            if (taken == 0 && Volatile.Read(ref _failed) is null) break;
            remaining -= taken;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await FlushAsync(cancellationToken);
    }

    private async Task LoopAsync()
    {
        var failures = 0;
        try
        {
            while (Volatile.Read(ref _failed) is not null || await _queue.Reader.WaitToReadAsync(_stopping.Token))
            {
                await Task.Delay(Window, _stopping.Token);
                try
                {
                    await WriteBatchAsync(MaxBatch, _stopping.Token);
                    failures = 0;
                }
                catch (Exception e) when (!_stopping.IsCancellationRequested)
                {
                    // Logged in WriteBatchAsync; pause longer each time (1 s, 2 s, 4 s … 30 s) and go on.
                    failures++;
                    var pause = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, failures - 1), MaxPause.TotalSeconds));
                    logger.LogDebug(e, "Pausing the invitation opens for {Pause}", pause);
                    await Task.Delay(pause, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Writes the failed batch if there is one, else up to <paramref name="limit"/> queued opens; returns how many it took from the queue.</summary>
    private async Task<int> WriteBatchAsync(int limit, CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        try
        {
            var taken = 0;
            var batch = _failed;
            if (batch is null)
            {
                batch = [];
                while (batch.Count < limit && _queue.Reader.TryRead(out var open)) batch.Add(open);
                taken = batch.Count;
                if (batch.Count == 0) return 0;
            }
            try
            {
                await WriteAsync(batch);
                Volatile.Write(ref _failed, null);
                _attempts = 0;
            }
            catch (Exception e)
            {
                if (++_attempts < MaxAttempts)
                {
                    Volatile.Write(ref _failed, batch);
                    logger.LogWarning(e, "Writing {Count} invitation opens failed (try {Attempt} of {MaxAttempts}); they are tried again", batch.Count, _attempts, MaxAttempts);
                }
                else
                {
                    Volatile.Write(ref _failed, null);
                    _attempts = 0;
                    logger.LogError(e, "Writing {Count} invitation opens failed {MaxAttempts} times; they are given up (the funnel counts them as not opened)", batch.Count, MaxAttempts);
                }
                throw;
            }
            return taken;
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task WriteAsync(List<(Guid ContactId, DateTime OpenedAtUtc)> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        foreach (var (contactId, openedAt) in batch)
        {
            await db.Contacts.Where(c => c.Id == contactId && c.OpenedAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.OpenedAtUtc, openedAt), CancellationToken.None);
        }
        await transaction.CommitAsync(CancellationToken.None);
    }
}
