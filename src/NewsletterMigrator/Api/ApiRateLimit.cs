using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Api;

/// <summary>
/// Api:RequestsPerMinute per key, as the sign-up limits count (C31): on SQLite (one instance) in memory, on PostgreSQL
/// in the database (<see cref="RateWindows"/> through <see cref="SharedWindowLimiter"/>), so several instances share one
/// count per key instead of allowing the limit each. An endpoint filter on the API's group: it runs after the key was
/// checked, so only known keys are counted, under their id. Over the limit: 429 problem with Retry-After.
/// </summary>
public sealed class ApiRateLimit : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeProvider _clock;

    public ApiRateLimit(IOptions<ApiOptions> options, IOptions<DatabaseOptions> database, IServiceScopeFactory scopes, TimeProvider clock)
    {
        _clock = clock;
        var limit = options.Value.RequestsPerMinute;
        var shared = database.Value.Provider == DatabaseProvider.Postgres;
        _limiter = PartitionedRateLimiter.Create<string, string>(keyId => shared
            ? RateLimitPartition.Get(keyId, key => new SharedWindowLimiter(scopes, "api", key, limit, Window))
            : RateLimitPartition.GetFixedWindowLimiter(keyId, _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = Window, QueueLimit = 0 }));
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } keyId)
        {
            using var lease = await _limiter.AcquireAsync(keyId, 1, http.RequestAborted);
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : UntilNextWindow();
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                return ApiProblems.Of("rate-limited", $"This API key made more than {LimitText(http)} requests in a minute; try again after the time in Retry-After.");
            }
        }
        return await next(context);
    }

    /// <summary>The database windows start on the minute (RateWindows aligns them to the clock).</summary>
    private TimeSpan UntilNextWindow()
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return TimeSpan.FromTicks(Window.Ticks - now.Ticks % Window.Ticks);
    }

    private static int LimitText(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.RequestsPerMinute;

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}
