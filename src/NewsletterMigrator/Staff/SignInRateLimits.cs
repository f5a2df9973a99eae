using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Per client IP, besides the per-account lockout: POSTs to the pages that check a staff credential
/// (sign-in, the first-run setup code) are counted per <see cref="ClientNetwork"/>, so one address cannot
/// try passwords across many accounts, or guess the setup code. A page joins with
/// <c>[EnableRateLimiting(SignInRateLimits.Policy)]</c>. Above the limit the request gets 429 and the
/// friendly error page before any handler runs, so no password is checked. Like the sign-up limit, the
/// count lives in process memory; the lockout lives in the database.
/// </summary>
public sealed class SignInRateLimits(IOptions<StaffSignInOptions> options) : IRateLimiterPolicy<string>
{
    public const string Policy = "staff-sign-in";

    private static readonly object RefusedMarker = new();

    /// <summary>Whether this request was refused by this limit, for the error page's wording.</summary>
    public static bool Refused(HttpContext context) => context.Items.ContainsKey(RefusedMarker);

    public Func<OnRejectedContext, CancellationToken, ValueTask> OnRejected => (context, _) =>
    {
        context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(options.Value.AttemptWindow.TotalSeconds)).ToString();
        context.HttpContext.Items[RefusedMarker] = true;
        return ValueTask.CompletedTask;
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        // Showing the form is free; only an attempt counts.
        if (!HttpMethods.IsPost(httpContext.Request.Method)) return RateLimitPartition.GetNoLimiter("");
        var limit = options.Value;
        return RateLimitPartition.GetFixedWindowLimiter(ClientNetwork.Key(httpContext.Connection.RemoteIpAddress), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.AttemptsPerIp,
            Window = limit.AttemptWindow,
            QueueLimit = 0,
        });
    }
}
