using Microsoft.AspNetCore.Diagnostics;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator;

/// <summary>
/// C32: a CSP without inline script, no framing, no MIME sniffing, and no Referer that could leak a token.
/// The one exception is the embed page (/n/{slug}/embed, issue 17): the portals its newsletter lists may frame it.
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    internal const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

    /// <summary>
    /// The house policy with images from any https origin, for the archive's issue pages (issue 21): an issue's body may
    /// show pictures from the portal's own site (a feed item's image, issue 19). Still no inline script or style, no framing.
    /// </summary>
    internal const string PolicyWithRemoteImages =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; font-src 'self'; " +
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

    private const string FramedKey = "SecurityHeaders.Framed";
    private const string StyleKey = "SecurityHeaders.Style";

    /// <summary>
    /// Allows one style element by its hash on this response (the reader pages' brand colour, issue 21); the page's
    /// policy otherwise stays as it is, inline styles in general stay forbidden.
    /// </summary>
    public static void AllowStyle(HttpContext context, string css) =>
        context.Items[StyleKey] = $"'sha256-{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(css)))}'";

    /// <summary>The same policy with frame-ancestors set to <paramref name="origins"/> ('none' for none).</summary>
    public static string PolicyFramedBy(IReadOnlyList<string> origins) =>
        Policy.Replace("frame-ancestors 'none'", "frame-ancestors " + (origins.Count == 0 ? "'none'" : string.Join(' ', origins)), StringComparison.Ordinal);

    /// <summary>
    /// A mail's own HTML shown in the editor's sandboxed frame (a campaign's or a feed's preview): mail HTML needs inline
    /// styles, so this response carries its own strict policy, no script at all, framed only by our own pages.
    /// </summary>
    public static void ForMailPreview(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy =
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; sandbox allow-popups";
        response.Headers.XFrameOptions = "SAMEORIGIN";
    }

    /// <summary>
    /// The embed page's headers: framed by the newsletter's origins only (normalized by <see cref="EmbedOrigins"/>),
    /// without X-Frame-Options, which knows no list of origins (its ALLOW-FROM is ignored by current browsers, and
    /// DENY would win over frame-ancestors in older ones). Referrer-Policy same-origin instead of no-referrer: with
    /// no-referrer a browser sends "Origin: null" on the form's POST (Fetch standard, "append a request Origin
    /// header"), and the embed form's CSRF check needs the real origin. The page's URL carries no token, and
    /// same-origin still sends nothing to another site.
    /// </summary>
    public static void AllowFramingBy(HttpContext context, IReadOnlyList<string> origins)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = PolicyFramedBy(origins);
        headers["Referrer-Policy"] = "same-origin";
        if (origins.Count > 0) context.Items[FramedKey] = true;
    }

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(async () =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (!headers.ContainsKey("Referrer-Policy")) headers["Referrer-Policy"] = "no-referrer";
            // A refusal on the embed page shown by the error page (the per-IP limit answers before the page runs)
            // stays readable inside the portal's frame instead of becoming a blocked frame.
            if (!headers.ContainsKey("Content-Security-Policy") && await EmbedErrorOriginsAsync(context) is { } origins)
                AllowFramingBy(context, origins);
            // The mail preview sets its own (same-origin framing in a sandbox); the embed page allows its portals;
            // everything else is never framed.
            if (!headers.ContainsKey("X-Frame-Options") && !context.Items.ContainsKey(FramedKey)) headers.XFrameOptions = "DENY";
            if (!headers.ContainsKey("Content-Security-Policy")) headers.ContentSecurityPolicy = Policy;
            if (context.Items[StyleKey] is string styleHash)
                headers.ContentSecurityPolicy = headers.ContentSecurityPolicy.ToString().Replace("style-src 'self';", $"style-src 'self' {styleHash};", StringComparison.Ordinal);
        });
        return next(context);
    }

    /// <summary>The origins of the newsletter whose embed page this error answer stands for; null for any other answer.</summary>
    private static async Task<IReadOnlyList<string>?> EmbedErrorOriginsAsync(HttpContext context)
    {
        if (Pages.Join.EmbedLanguageAttribute.EmbedSlug(context.Features.Get<IStatusCodeReExecuteFeature>()?.OriginalPath) is not { } slug) return null;
        // From the reader cache: a client past the per-IP limit must not cost a query per refusal.
        var newsletter = await context.RequestServices.GetRequiredService<Consent.ReaderCache>().NewsletterBySlugAsync(slug);
        return newsletter is null ? null : EmbedOrigins.Parse(newsletter.EmbedOrigins).Origins;
    }
}
