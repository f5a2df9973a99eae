using System.Text.RegularExpressions;
using Microsoft.Net.Http.Headers;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// Serves a newsletter's logo from our own origin (no third-party request on the consent page), at an address
/// fingerprinted by its content hash, so browsers keep it for a year and a new upload gets a new address: .png for a
/// PNG logo and for an SVG logo's mail raster, .svg for the SVG itself.
/// </summary>
public static partial class NewsletterLogoEndpoint
{
    public static IServiceCollection AddNewsletterLogos(this IServiceCollection services)
    {
        services.AddScoped<NewsletterLogos>();
        services.AddSingleton<LogoBytesCache>();
        return services;
    }

    public static WebApplication MapNewsletterLogos(this WebApplication app)
    {
        app.MapMethods("/n/{slug}/logo/{sha256}.png", ["GET", "HEAD"], ServePngAsync).AllowAnonymous();
        app.MapMethods("/n/{slug}/logo/{sha256}.svg", ["GET", "HEAD"], ServeSvgAsync).AllowAnonymous();
        return app;
    }

    /// <summary>
    /// An SVG logo opened on its own is a document that could run script: whatever the cleaning missed, this response
    /// may load nothing, run nothing (sandbox: no script, no same origin, no forms) and only style itself inline.
    /// </summary>
    internal const string SvgPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

    /// <summary>The PNG: an uploaded PNG logo, or the mail raster of an SVG logo (for mails; 404 when it has none).</summary>
    internal static async Task<IResult> ServePngAsync(string slug, string sha256, Consent.ReaderCache newsletters, LogoBytesCache cache,
        AppDbContext db, HttpContext context)
    {
        if (await FindAsync(slug, sha256, newsletters, cache, db) is not { } logo) return Results.NotFound();
        var (bytes, tag) = logo.ContentType == NewsletterLogoPng.ContentType ? (logo.Content, logo.Sha256) : (logo.MailPng, logo.Sha256 + "-png");
        if (bytes is null) return Results.NotFound();
        return Immutable(context, bytes, NewsletterLogoPng.ContentType, tag);
    }

    /// <summary>The cleaned SVG as stored, under <see cref="SvgPolicy"/>.</summary>
    internal static async Task<IResult> ServeSvgAsync(string slug, string sha256, Consent.ReaderCache newsletters, LogoBytesCache cache,
        AppDbContext db, HttpContext context)
    {
        if (await FindAsync(slug, sha256, newsletters, cache, db) is not { ContentType: NewsletterLogoSvg.ContentType } logo) return Results.NotFound();
        context.Response.Headers.ContentSecurityPolicy = SvgPolicy;
        return Immutable(context, logo.Content, NewsletterLogoSvg.ContentType, logo.Sha256);
    }

    private static async Task<NewsletterLogo?> FindAsync(string slug, string sha256, Consent.ReaderCache newsletters, LogoBytesCache cache, AppDbContext db)
    {
        // Anything but the newsletter's current logo (a lower-case SHA-256) is no logo of ours: decided from the reader
        // cache, so an unknown slug or an old or made-up hash costs no query.
        if (!Sha256Hex().IsMatch(sha256) || await newsletters.NewsletterBySlugAsync(slug) is not { } newsletter
            || newsletter.LogoSha256 != sha256) return null;
        return await cache.FindAsync(newsletter.Id, sha256, db);
    }

    private static IResult Immutable(HttpContext context, byte[] bytes, string contentType, string tag)
    {
        context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        // nosniff comes from SecurityHeaders for every answer; the stored type is the only type.
        return Results.Bytes(bytes, contentType, entityTag: new EntityTagHeaderValue($"\"{tag}\""));
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
