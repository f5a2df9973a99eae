namespace NewsletterMigrator.Feeds;

public static class FeedFeature
{
    /// <summary>Feeds to mail (issue 19): fetching, polling, breaking news and digests, and their worker.</summary>
    public static IServiceCollection AddFeeds(this IServiceCollection services)
    {
        services.AddFeedFetching();
        services.AddScoped<FeedService>();
        services.AddScoped<FeedPolling>();
        services.AddScoped<FeedDigests>();
        services.AddScoped<FeedCampaigns>();
        services.AddSingleton<FeedMail>();
        services.AddScoped<FeedPreview>();
        services.AddHostedService<FeedWorker>();
        return services;
    }
}
