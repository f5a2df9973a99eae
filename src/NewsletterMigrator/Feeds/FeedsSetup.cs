using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Feeds;

public static class FeedsSetup
{
    /// <summary>The fetcher as a typed HttpClient with its options (called by <see cref="FeedFeature.AddFeeds"/>).</summary>
    public static IServiceCollection AddFeedFetching(this IServiceCollection services)
    {
        services.AddOptions<FeedOptions>().BindConfiguration(FeedOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FeedOptions>, FeedOptionsValidator>();
        services.AddHttpClient<FeedFetcher>(client => client.Timeout = Timeout.InfiniteTimeSpan) // the fetcher's own deadline covers the body too
            .ConfigurePrimaryHttpMessageHandler(FeedFetcher.CreateHandler)
            // The factory's own four lines per request (URL with "?*" for the query) every few minutes per feed are noise
            // next to the fetcher's one line, which names host and path and the outcome.
            .RemoveAllLoggers();
        return services;
    }
}
