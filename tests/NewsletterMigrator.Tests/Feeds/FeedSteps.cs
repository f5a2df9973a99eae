using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Tests;

/// <summary>A fetcher on a plain HttpClient with the production handler, and the sample feeds beside the tests.</summary>
internal static class FeedSteps
{
    public static FeedFetcher Fetcher(FeedOptions? options = null) =>
        new(new HttpClient(FeedFetcher.CreateHandler()), Options.Create(options ?? new FeedOptions()), NullLogger<FeedFetcher>.Instance);

    public static string Sample(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Feeds", "Samples", name));


    public static async Task<FetchResult.Fetched> FetchedAsync(this FeedFetcher fetcher, Uri url, FeedValidators? previous = null)
    {
        var result = await fetcher.FetchAsync(url, previous, CancellationToken.None);
        return Assert.IsType<FetchResult.Fetched>(result);
    }

    public static async Task<FetchResult.Failed> FailedAsync(this FeedFetcher fetcher, Uri url, FeedFetchError expected)
    {
        var result = await fetcher.FetchAsync(url, null, CancellationToken.None);
        var failed = Assert.IsType<FetchResult.Failed>(result);
        Assert.Equal(expected, failed.Error);
        return failed;
    }
}
