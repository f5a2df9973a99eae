using System.Threading.RateLimiting;

namespace NewsletterMigrator.Data;

/// <summary>
/// A <see cref="RateLimiter"/> for ASP.NET Core's rate-limiting middleware whose count lives in the database
/// (<see cref="RateWindows"/>), shared by every instance. The middleware first tries a lease without waiting; this
/// limiter always answers that try with "no" so that the middleware asks again asynchronously, where the database
/// can be asked.
/// </summary>
public sealed class SharedWindowLimiter(IServiceScopeFactory scopes, string purpose, string subject, int limit, TimeSpan window) : RateLimiter
{
    private long _lastUsedTicks = DateTime.UtcNow.Ticks;

    /// <summary>How long since the last request: the middleware drops limiters idle for a while (the count stays in the database).</summary>
    public override TimeSpan? IdleDuration => TimeSpan.FromTicks(DateTime.UtcNow.Ticks - Interlocked.Read(ref _lastUsedTicks));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.NotNow;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsedTicks, DateTime.UtcNow.Ticks);
        await using var scope = scopes.CreateAsyncScope();
        var taken = await scope.ServiceProvider.GetRequiredService<RateWindows>().TryTakeAsync(purpose, subject, limit, window, cancellationToken);
        return taken ? Lease.Granted : Lease.Refused;
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public static readonly Lease Granted = new(true);
        public static readonly Lease Refused = new(false);
        /// <summary>Not acquired without asking the database; the middleware then calls the asynchronous acquire.</summary>
        public static readonly Lease NotNow = new(false);

        public override bool IsAcquired => acquired;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
