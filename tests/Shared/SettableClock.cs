namespace NewsletterMigrator.Testing;

/// <summary>Real time plus an offset a test can advance, e.g. past a link's expiry. Timers keep running in real time.</summary>
public sealed class SettableClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
