using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator;

/// <summary>
/// App:PublicBaseUrl decides the scheme readers and staff use. When it is https, every request is treated as
/// https, so the sign-in, antiforgery and language cookies carry Secure (issue 13, point 9) even when a TLS proxy
/// hands the request on over plain http without a trusted X-Forwarded-Proto (not listed in App:KnownProxies).
/// Forcing Secure through CookieSecurePolicy.Always instead would make antiforgery throw on such a request (500).
/// Links never depend on this: they are built from App:PublicBaseUrl.
/// </summary>
public sealed class PublicScheme(RequestDelegate next, ILogger<PublicScheme> logger)
{
    private int _warned;

    public static bool Applies(AppOptions options) => options.BaseUri.Scheme == Uri.UriSchemeHttps;

    public Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.IsHttps)
        {
            // Health probes from the orchestrator come over plain http by design; anything else means a proxy
            // the app does not know (and whose client address it therefore cannot see either). Said once, no PII.
            if (!context.Request.Path.StartsWithSegments("/healthz") && Interlocked.Exchange(ref _warned, 1) == 0)
                logger.LogWarning("Requests arrive over plain http while App:PublicBaseUrl is https: they are treated as https so cookies stay Secure. " +
                                  "List the TLS proxy in App:KnownProxies so its X-Forwarded-Proto and X-Forwarded-For are used (C7).");
            context.Request.Scheme = Uri.UriSchemeHttps;
        }
        return next(context);
    }
}
