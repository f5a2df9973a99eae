namespace NewsletterMigrator.Common;

/// <summary>
/// The loop of a worker that leases rows from a queue table (the outbox, the WhatsApp queue): first take back what an
/// earlier run of this instance still holds, then lease a batch and handle it, and when a round found nothing, wait for
/// the queue's signal or the poll interval. A failed round is logged and the next one tries again: its leases expire and
/// the rows return to the queue, so an error never loses a row and never stops the worker. Shutdown ends the loop
/// quietly. What a batch is and how fast it may go (rate limits, pacing, budgets) stays with each worker.
/// </summary>
/// <param name="queue">Names the queue in the log ("Delivery", "WhatsApp").</param>
public sealed class LeaseQueueLoop(string queue, WakeSignal signal, TimeSpan pollInterval, ILogger logger)
{
    /// <param name="releaseEarlierRuns">The worker's first step (see <see cref="LeaseTakeback"/>); it logs its own failures.</param>
    /// <param name="runRound">Leases and handles one batch; returns how many rows it handled (0: the queue had nothing due).</param>
    public async Task RunAsync(Func<CancellationToken, Task> releaseEarlierRuns, Func<CancellationToken, Task<int>> runRound,
        CancellationToken stoppingToken)
    {
        try
        {
            await releaseEarlierRuns(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var handled = 0;
                try
                {
                    handled = await runRound(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "{Queue} batch failed; leases expire and the rows return to the queue", queue);
                }
                if (handled == 0) await signal.WaitAsync(pollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }
}
