using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Archive;

public static class ArchiveSetup
{
    /// <summary>The public archive (issue 21): its rules, the RSS feed, and the latest issues for the welcome mail.</summary>
    public static IServiceCollection AddArchive(this IServiceCollection services)
    {
        services.AddScoped<ArchiveService>();
        services.AddScoped<ILatestIssues, LatestArchiveIssues>();
        return services;
    }

    /// <summary>/n/{slug}/archive/feed.xml; the list and the issues are Razor pages (Pages/Archive).</summary>
    public static WebApplication MapArchive(this WebApplication app)
    {
        app.MapMethods("/n/{slug}/archive/feed.xml", ["GET", "HEAD"], ArchiveFeed.ServeAsync).AllowAnonymous();
        return app;
    }
}
