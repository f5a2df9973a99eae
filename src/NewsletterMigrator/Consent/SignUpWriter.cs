using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Consent;

/// <summary>
/// Group commit for sign-ups (issue 17). SQLite has one writer: with a transaction per sign-up, 512 simultaneous POSTs
/// all waited for the write lock inside SQLite's busy handler, which sleeps on a thread-pool thread; the pool starved and
/// the bench managed about 57 sign-ups/s with answers of 3 to 4 s (PROFILE.md of issue 17). Here one loop takes the
/// sign-ups that queued meanwhile and writes them in one transaction with exactly the rules of <see cref="SignUpService"/>
/// (row lock, per-address limit, resend interval, DOI cap: C30, C31, C42), and commits once. The batch is read with a
/// few statements and saved with one SaveChanges (<see cref="SignUpBatch"/>); if that fails as a whole, it is rolled
/// back to its savepoint and written again one by one, each sign-up in its own savepoint, so a sign-up that throws fails
/// only its own request. Each request awaits its own outcome, which is set only after the commit: its ledger rows and
/// its DOI outbox row are stored before its answer is sent; a failed commit fails the whole batch's requests.
/// </summary>
public sealed class SignUpWriter(IServiceScopeFactory scopes, ILogger<SignUpWriter> logger)
{
    /// <summary>
    /// At most this many sign-ups per transaction: each is about 1 ms of SQLite work, so a full batch stays well under the
    /// architecture's 100 ms per write transaction. Under load batches form by themselves from what queued during the last.
    /// </summary>
    public const int MaxBatch = 64;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private int _started;

    private sealed record Pending(SignUpRequest Request, string Email, CancellationToken Ct)
    {
        /// <summary>
        /// The request's execution context: each sign-up's statements and log lines run in it, so they belong to their
        /// request (HttpContext accessor, logging scopes, tracing) as when the request wrote them itself.
        /// </summary>
        public ExecutionContext? Context { get; } = ExecutionContext.Capture();

        public TaskCompletionSource<SignUpOutcome> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    internal Task<SignUpOutcome> SubmitAsync(SignUpRequest request, string email, CancellationToken ct)
    {
        // Started on first use rather than as a hosted service, so the service works in a host that is never started (benches).
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            // Not under the first request's execution context (its trace, logging scopes and HttpContext) for good.
            using (ExecutionContext.SuppressFlow())
                _ = Task.Factory.StartNew(LoopAsync, TaskCreationOptions.LongRunning).Unwrap();
        }
        var pending = new Pending(request, email, ct);
        if (!_queue.Writer.TryWrite(pending)) pending.Result.SetException(new InvalidOperationException("The sign-up writer has stopped."));
        return pending.Result.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending)) batch.Add(pending);
            try
            {
                await WriteAsync(batch);
            }
            catch (Exception e)
            {
                logger.LogError(e, "A batch of {Count} sign-ups failed", batch.Count);
                foreach (var pending in batch) pending.Result.TrySetException(e);
            }
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        var outcomes = new SignUpOutcome?[batch.Count];
        var failures = new Exception?[batch.Count];
        var mailQueued = false;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var signUps = scope.ServiceProvider.GetRequiredService<SignUpService>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch[i].Ct.IsCancellationRequested) failures[i] = new OperationCanceledException(batch[i].Ct);
            }

            // The whole batch at once: four reads, the rules in memory, one SaveChanges (SignUpBatch). If anything fails
            // (a unique violation from another instance's first sign-up of an address, a sign-up that throws), undo it
            // and write the sign-ups one by one below, so every request still gets its own exact outcome.
            await transaction.CreateSavepointAsync("batch");
            try
            {
                var live = Enumerable.Range(0, batch.Count).Where(i => failures[i] is null).ToList();
                // The batch's statements run in its first request's context: a lone sign-up's trace (and the C30 test of
                // SignUpAnswerTests, which groups statements by request) shows its reads and writes as before.
                var lead = live.Count > 0 ? batch[live[0]].Context : null;
                var state = await InContext(lead, () => signUps.LoadBatchAsync(live.Select(i => (batch[i].Request, batch[i].Email))));
                var queued = false;
                foreach (var i in live)
                {
                    var pending = batch[i];
                    // Each sign-up's log lines belong to its request, as in the one-by-one path.
                    var result = InContext(pending.Context, () => signUps.Apply(state, pending.Request, pending.Email));
                    outcomes[i] = result.Outcome;
                    queued |= result.DoiQueued;
                }
                await InContext(lead, () => signUps.SaveAsync(state));
                await transaction.ReleaseSavepointAsync("batch");
                mailQueued = queued;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "A batch of {Count} sign-ups failed as a whole; writing them one by one", batch.Count);
                await transaction.RollbackToSavepointAsync("batch");
                Array.Clear(outcomes);
            }
            finally
            {
                db.ChangeTracker.Clear();
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var pending = batch[i];
                if (outcomes[i] is not null || failures[i] is not null) continue;
                for (var attempt = 1; ; attempt++)
                {
                    await transaction.CreateSavepointAsync("signup");
                    try
                    {
                        var (outcome, queued) = await InContext(pending.Context, () => signUps.SignUpInTransactionAsync(pending.Request, pending.Email));
                        await transaction.ReleaseSavepointAsync("signup");
                        outcomes[i] = outcome;
                        mailQueued |= queued;
                        break;
                    }
                    catch (DbUpdateException e) when (attempt < 3 && UniqueViolation.Is(e))
                    {
                        // Two first sign-ups of one address on a server database (another instance): the unique index took
                        // the other one. Start again: this time the row is there.
                        await transaction.RollbackToSavepointAsync("signup");
                    }
                    catch (Exception e)
                    {
                        await transaction.RollbackToSavepointAsync("signup");
                        failures[i] = e;
                        break;
                    }
                    finally
                    {
                        db.ChangeTracker.Clear();
                    }
                }
            }
            await transaction.CommitAsync();
            // Only now, after the commit, does any request learn its outcome and answer; whatever fails after this point
            // (waking the worker, disposing) must not turn a stored sign-up into an error page.
            for (var i = 0; i < batch.Count; i++)
            {
                if (failures[i] is { } failure) batch[i].Result.TrySetException(failure);
                else batch[i].Result.TrySetResult(outcomes[i]!.Value);
            }
            try
            {
                if (mailQueued) scope.ServiceProvider.GetRequiredService<Outbox>().Wake();
            }
            catch (Exception e)
            {
                logger.LogError(e, "Waking the delivery worker after {Count} sign-ups failed; it finds the mails at its next round", batch.Count);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> (and the synchronous part of a task it starts) in a request's execution context, so
    /// its statements and log lines belong to that request; without one, in the writer's own.
    /// </summary>
    private static T InContext<T>(ExecutionContext? context, Func<T> work)
    {
        if (context is null) return work();
        T result = default!;
        ExecutionContext.Run(context, _ => result = work(), null);
        return result;
    }
}
