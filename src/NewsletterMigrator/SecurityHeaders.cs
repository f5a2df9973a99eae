namespace NewsletterMigrator;

/// <summary>C32: a CSP without inline script, no framing, no MIME sniffing, and no Referer that could leak a token.</summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    internal const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            // The mail preview sets its own (same-origin framing in a sandbox); everything else is never framed.
            if (!headers.ContainsKey("X-Frame-Options")) headers.XFrameOptions = "DENY";
            if (!headers.ContainsKey("Content-Security-Policy")) headers.ContentSecurityPolicy = Policy;
            return Task.CompletedTask;
        });
        return next(context);
    }
}
