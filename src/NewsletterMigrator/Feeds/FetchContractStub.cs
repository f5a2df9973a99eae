// TEMPORARY: the contract of the feed fetcher, built on branch feedfetch; replaced at merge.
namespace NewsletterMigrator.Feeds;

public sealed class FeedOptions
{
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(20);
    public long MaxFeedBytes { get; set; } = 5 * 1024 * 1024;
    public TimeSpan MaxBackOff { get; set; } = TimeSpan.FromHours(6);
}
public sealed record FeedValidators(string? ETag, string? LastModified);
public sealed record FeedEntry(string Key, string Title, string? Link, string? Summary, string? ImageUrl, IReadOnlyList<string> Categories, DateTime? PublishedUtc);
public abstract record FetchResult;
public sealed record NotModified : FetchResult;
public sealed record Fetched(IReadOnlyList<FeedEntry> Entries, FeedValidators Validators, string? FeedTitle) : FetchResult;
public sealed record Failed(FeedFetchError Error, string Detail) : FetchResult;
public enum FeedFetchError { Timeout, HttpStatus, TooLarge, Malformed, UnsupportedFormat, Network, InvalidUrl }
public sealed class FeedFetcher
{
    public Task<FetchResult> FetchAsync(Uri url, FeedValidators? previous, CancellationToken ct) => throw new NotImplementedException();
}
public static class FeedBackOff { public static TimeSpan After(int consecutiveFailures, TimeSpan pollInterval, TimeSpan max) => max; }
public static class FeedsFetchSetup { public static IServiceCollection AddFeedFetching(this IServiceCollection services) => services; }
