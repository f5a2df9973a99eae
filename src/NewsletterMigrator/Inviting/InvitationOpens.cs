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
/// </summary>
public sealed class InvitationOpens(IServiceScopeFactory scopes, TimeProvider clock, ILogger<InvitationOpens> logger) : IHostedService
{
    /// <summary>Opens gathered per transaction; a few thousand stamps are a few ms of SQLite work.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(500);
    private const int MaxBatch = 2_000;

    private readonly Channel<(Guid ContactId, DateTime OpenedAtUtc)> _queue =
        Channel.CreateUnbounded<(Guid, DateTime)>(new UnboundedChannelOptions { SingleReader = false });
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private int _started;

    /// <summary>The reader opened their invitation now; written within <see cref="Window"/>, the first open wins.</summary>
    public void Record(Guid contactId)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0) _ = Task.Run(LoopAsync);
        _queue.Writer.TryWrite((contactId, clock.GetUtcNow().UtcDateTime));
    }

    /// <summary>Writes every queued open now (shutdown; a report or test that must see them).</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        while (_queue.Reader.Count > 0) await WriteBatchAsync(ct);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await FlushAsync(cancellationToken);
    }

    private async Task LoopAsync()
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stopping.Token))
            {
                await Task.Delay(Window, _stopping.Token);
                await WriteBatchAsync(_stopping.Token);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "Writing invitation opens failed; the loop stops, the shutdown flush still writes what is queued");
        }
    }

    private async Task WriteBatchAsync(CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        try
        {
            var batch = new List<(Guid ContactId, DateTime OpenedAtUtc)>();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var open)) batch.Add(open);
            if (batch.Count == 0) return;
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
        finally
        {
            _writing.Release();
        }
    }
}
