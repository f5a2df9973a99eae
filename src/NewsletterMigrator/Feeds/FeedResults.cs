namespace NewsletterMigrator.Feeds;

/// <summary>What the last 200 answered; sent back as If-None-Match / If-Modified-Since exactly as received.</summary>
public sealed record FeedValidators(string? ETag, string? LastModified);

/// <summary>
/// One item of a feed. <see cref="Key"/> is the guid/id, else the absolute link: what "never sent twice" compares.
/// <see cref="Summary"/> is a plain-text teaser (HTML stripped, whitespace collapsed, cut on a word near
/// <see cref="FeedText.TeaserLength"/> characters). <see cref="Link"/> and <see cref="ImageUrl"/> are absolute http(s) URLs or null.
/// </summary>
public sealed record FeedEntry(string Key, string Title, string? Link, string? Summary, string? ImageUrl,
    IReadOnlyList<string> Categories, DateTime? PublishedUtc);

public enum FeedFetchError { Timeout, HttpStatus, TooLarge, Malformed, UnsupportedFormat, Network, InvalidUrl }

/// <summary>Every expected way a fetch ends; only the caller's own cancellation is an exception.</summary>
public abstract record FetchResult
{
    private FetchResult() { }

    /// <summary>The server answered 304 to the validators: nothing changed since the last 200.</summary>
    public sealed record NotModified : FetchResult;

    /// <summary>Entries in document order, duplicates (by key) removed keeping the first.</summary>
    public sealed record Fetched(IReadOnlyList<FeedEntry> Entries, FeedValidators Validators, string? FeedTitle) : FetchResult;

    /// <summary><see cref="Detail"/> is English text for operators; it never contains the feed URL's query.</summary>
    public sealed record Failed(FeedFetchError Error, string Detail) : FetchResult;
}
