using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>
/// C31, per client IP: sign-up POSTs on /n/… and /i/… are counted per <see cref="ClientNetwork"/> (an
/// IPv4 address or an IPv6 /64). The limit is generous because carrier NAT puts many readers
/// behind one IPv4 address. A rejected request gets status 429 and the friendly error page.
/// The per-address limit lives in <see cref="SignUpService"/>, counted in the ledger.
/// <para>
/// On SQLite there is one instance, and it counts in memory. On PostgreSQL several instances share the load, so each
/// request is counted in the database (<see cref="RateWindows"/>): otherwise every instance would allow the full limit.
/// </para>
/// </summary>
public static class SignUpRateLimits
{
    public static IServiceCollection AddSignUpRateLimits(this IServiceCollection services, DatabaseProvider provider) =>
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "3600";
                return ValueTask.CompletedTask;
            };
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!IsSignUpPost(context.Request)) return RateLimitPartition.GetNoLimiter("");
                var limit = Math.Max(1, context.RequestServices.GetRequiredService<IOptions<ConsentOptions>>().Value.SignUpsPerIpPerHour);
                var network = ClientNetwork.Key(context.Connection.RemoteIpAddress);
                if (provider == DatabaseProvider.Postgres)
                {
                    var scopes = context.RequestServices.GetRequiredService<IServiceScopeFactory>();
                    return RateLimitPartition.Get(network, key => new SharedWindowLimiter(scopes, "sign-up", key, limit, TimeSpan.FromHours(1)));
                }
                return RateLimitPartition.GetFixedWindowLimiter(network, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limit,
                    Window = TimeSpan.FromHours(1),
                    QueueLimit = 0,
                });
            });
        });

    public static bool IsSignUpPost(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && (request.Path.StartsWithSegments("/n") || request.Path.StartsWithSegments("/i"));
}
