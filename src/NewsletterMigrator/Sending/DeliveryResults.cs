using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>What happened to one leased row, waiting to be written.</summary>
/// <param name="DoiTextSha256">For a DOI mail: the hash of the text as it was sent (C43), which the ledger's DoiSent entry keeps.</param>
/// <param name="Bounced">The recipient was refused (C37); <paramref name="SenderRefused"/>: our side was.</param>
internal sealed record RowResult(
    OutboundMessage Row, MessageStatus Status, string? Reply, DateTime At, DateTime? NextAttemptAtUtc, bool CountsAsAttempt,
    Subscriber? Subscriber = null, bool Bounced = false, string? DoiTextSha256 = null, bool SenderRefused = false, string? StatusCode = null);

/// <summary>
/// Collects delivery results and writes them in one short transaction per flush (every few dozen
/// results or half a second), so SQLite commits do not limit throughput. A crash between a send and
/// its flush leaves the row leased; the restarted instance takes it back at start (another instance
/// only once the lease expires) and the row is sent again with the same Message-ID, which is the
/// documented, recognisable duplicate.
/// </summary>
internal sealed class DeliveryResults(IServiceScopeFactory scopes, string owner, ILogger logger)
{
    private const int FlushSize = 50;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private List<RowResult> _pending = [];
    private DateTime _lastFlush = DateTime.UtcNow;

    public void Add(RowResult result)
    {
        lock (_gate) _pending.Add(result);
    }

    public async Task FlushIfDueAsync()
    {
        bool due;
        lock (_gate) due = _pending.Count >= FlushSize || (_pending.Count > 0 && DateTime.UtcNow - _lastFlush >= FlushInterval);
        // Another slot is already writing: keep sending, the next call picks the rest up.
        if (due && _flushing.Wait(0))
        {
            // Not cancelled by shutdown: a short write now saves a resend after the restart.
            try { await WriteAsync(CancellationToken.None); }
            finally { _flushing.Release(); }
        }
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        await _flushing.WaitAsync(ct);
        try { await WriteAsync(ct); }
        finally { _flushing.Release(); }
    }

    private async Task WriteAsync(CancellationToken ct)
    {
        List<RowResult> results;
        lock (_gate)
        {
            results = _pending;
            _pending = [];
            _lastFlush = DateTime.UtcNow;
        }
        if (results.Count == 0) return;

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var handlers = scope.ServiceProvider.GetServices<IDeliveryOutcomeHandler>().ToList();
        await db.Database.OpenConnectionAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var written = await scope.ServiceProvider.GetRequiredService<IBulkSql>().WriteOutboxResultsAsync(db, owner,
            results.ConvertAll(r => new OutboxResult(r.Row.Id, r.Status, r.CountsAsAttempt, r.Reply, r.NextAttemptAtUtc, r.Status == MessageStatus.Sent ? r.At : null)), ct);
        for (var i = 0; i < results.Count; i++)
        {
            // Not written: the lease expired and the row moved on (perhaps to another instance), or an unsubscribe cancelled it; not ours to change.
            if (!written[i]) continue;
            var r = results[i];

            foreach (var handler in handlers)
            {
                if (r.Status == MessageStatus.Sent) await handler.DeliveredAsync(r.Row, r.Subscriber, r.DoiTextSha256, r.At, ct);
                if (r.Bounced) await handler.RecipientRefusedAsync(r.Row, r.StatusCode, r.Reply ?? "", r.At, ct);
                if (r.SenderRefused) await handler.SenderRefusedAsync(r.Row, r.StatusCode, r.At, ct);
                // A server's answer that was neither about the address nor about us; a broken connection (no code) says nothing about the reader.
                else if (r is { Status: MessageStatus.Failed, Bounced: false, StatusCode: not null }) await handler.DeliveryFailedAsync(r.Row, r.StatusCode, r.At, ct);
            }
        }
        foreach (var handler in handlers) await handler.BeforeCommitAsync(ct);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogDebug("Recorded {Count} delivery result(s)", results.Count);
        // The results are safe; a failing follow-up (the campaign's rate check) must not look like a failed flush.
        foreach (var handler in handlers)
        {
            try { await handler.RecordedAsync(ct); }
            catch (Exception ex) when (ex is not OperationCanceledException) { logger.LogError(ex, "Weighing the recorded delivery outcomes failed"); }
        }
    }
}
