namespace NewsletterMigrator.Common;

/// <summary>
/// Wakes one waiting background loop before its poll interval is over (a request queued work, a worker ran dry). Wakes
/// do not pile up: any number of notifications before the wait end it once. Each loop has its own subclass, so the
/// container hands each waiter its own signal.
/// </summary>
public abstract class WakeSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Notify()
    {
        try { _semaphore.Release(); }
        catch (SemaphoreFullException) { /* already signalled */ }
    }

    /// <returns>True when woken, false when the timeout passed.</returns>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _semaphore.WaitAsync(timeout, ct);
}
