using System.Text.RegularExpressions;
using Microsoft.Net.Http.Headers;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// Serves a newsletter's logo from our own origin (no third-party request on the consent page), at an address
/// fingerprinted by its content hash, so browsers keep it for a year and a new upload gets a new address.
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
        app.MapMethods("/n/{slug}/logo/{sha256}.png", ["GET", "HEAD"], ServeAsync).AllowAnonymous();
        return app;
    }

    internal static async Task<IResult> ServeAsync(string slug, string sha256, Consent.ReaderCache newsletters, LogoBytesCache cache,
        AppDbContext db, HttpContext context)
    {
        // Anything but the newsletter's current logo (a lower-case SHA-256) is no logo of ours: decided from the reader
        // cache, so an unknown slug or an old or made-up hash costs no query.
        if (!Sha256Hex().IsMatch(sha256) || await newsletters.NewsletterBySlugAsync(slug) is not { } newsletter
            || newsletter.LogoSha256 != sha256) return Results.NotFound();
        var logo = await cache.FindAsync(newsletter.Id, sha256, db);
        if (logo is null) return Results.NotFound();
        context.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        // nosniff comes from SecurityHeaders for every answer; the stored type is the only type.
        return Results.Bytes(logo.Content, logo.ContentType, entityTag: new EntityTagHeaderValue($"\"{logo.Sha256}\""));
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
