using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// One conditional GET of a feed, read under a time and size limit, parsed by <see cref="FeedParser"/>. Every expected
/// failure is a <see cref="FetchResult.Failed"/>; only the caller's own cancellation throws. Knows no database and no
/// campaigns: the poller decides what an entry means.
/// </summary>
public sealed class FeedFetcher(HttpClient http, IOptions<FeedOptions> options, ILogger<FeedFetcher> logger)
{
    /// <summary>Enough for http→https and a CMS's canonical-host hop; more is a loop or a misconfiguration.</summary>
    public const int MaxRedirects = 5;

    /// <summary>Names the app, so a portal's admin who sees it in the access log knows who polls.</summary>
    public static readonly string UserAgent = $"NewsletterMigrator/{Version()} (feed fetcher)";

    private const string Accept = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5";

    /// <summary>
    /// The handler the DI client uses, for tests with a plain HttpClient too: limited redirects (SocketsHttpHandler never
    /// follows https→http), decompression (the size limit counts the decompressed bytes, so a gzip bomb stops at the limit),
    /// and pooled connections renewed so a CMS moving to a new address is found.
    /// </summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = MaxRedirects,
        AutomaticDecompression = DecompressionMethods.All,
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        ConnectTimeout = TimeSpan.FromSeconds(15),
        UseCookies = false,
        // A body left unread (too large) closes the connection instead of being drained: measured, the default drain
        // (up to 1 MiB, 2 s) held a refused chunked feed for the full 2 s after the decision.
        MaxResponseDrainSize = 0,
    };

    public async Task<FetchResult> FetchAsync(Uri url, FeedValidators? previous, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!FeedUrl.IsWebUrl(url))
            return Log(url, new FetchResult.Failed(FeedFetchError.InvalidUrl, "A feed address must be an absolute http:// or https:// URL."), 0);

        var settings = options.Value;
        var watch = Stopwatch.StartNew();
        // One deadline for connect, headers and body: HttpClient.Timeout alone stops at the headers with ResponseHeadersRead.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(settings.FetchTimeout);
        FetchResult result;
        try
        {
            result = await FetchWithinDeadlineAsync(url, previous, settings.MaxFeedBytes, deadline.Token);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            result = new FetchResult.Failed(FeedFetchError.Timeout, $"No complete answer within {settings.FetchTimeout.TotalSeconds:0.#} s (Feeds:FetchTimeout).");
        }
        catch (HttpRequestException ex)
        {
            result = new FetchResult.Failed(FeedFetchError.Network, NetworkDetail(ex, url));
        }
        catch (IOException ex)
        {
            result = new FetchResult.Failed(FeedFetchError.Network, $"The connection broke while reading the feed: {Scrub(ex.Message, url)}");
        }
        return Log(url, result, watch.ElapsedMilliseconds);
    }

    private async Task<FetchResult> FetchWithinDeadlineAsync(Uri url, FeedValidators? previous, long maxBytes, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.TryAddWithoutValidation("Accept", Accept);
        // Sent back exactly as the server wrote them (a weak W/"…" tag, its own date format): RFC 9110 wants the
        // Last-Modified value echoed rather than a date of ours, and servers compare the strings.
        if (!string.IsNullOrWhiteSpace(previous?.ETag)) request.Headers.TryAddWithoutValidation("If-None-Match", previous.ETag);
        if (!string.IsNullOrWhiteSpace(previous?.LastModified)) request.Headers.TryAddWithoutValidation("If-Modified-Since", previous.LastModified);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotModified) return new FetchResult.NotModified();
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            var detail = status is >= 300 and < 400
                ? $"HTTP {status}: the redirect was not followed (more than {MaxRedirects} redirects, or to a non-https address from https)."
                : $"HTTP {status} {response.ReasonPhrase}".TrimEnd();
            return new FetchResult.Failed(FeedFetchError.HttpStatus, detail);
        }

        var declared = response.Content.Headers.ContentLength;
        if (declared > maxBytes)
            return TooLarge(maxBytes, $"it announces {declared:N0} bytes");
        var body = await ReadLimitedAsync(response.Content, declared, maxBytes, ct);
        if (body is null) return TooLarge(maxBytes, "its body grew past the limit while it was read");

        var validators = new FeedValidators(Header(response.Headers, "ETag"), Header(response.Content.Headers, "Last-Modified"));
        // Relative links resolve against where the document was found, which after a redirect is not the configured URL.
        var documentUrl = response.RequestMessage?.RequestUri ?? url;
        return FeedParser.Parse(body.Value, documentUrl, validators);
    }

    /// <summary>The body, or null as soon as it passes <paramref name="maxBytes"/>: never more than the limit (plus one read) is held.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadLimitedAsync(HttpContent content, long? declared, long maxBytes, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new MemoryStream((int)Math.Min(declared ?? 64 * 1024, maxBytes));
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static FetchResult.Failed TooLarge(long maxBytes, string why) =>
        new(FeedFetchError.TooLarge, $"The feed is larger than {maxBytes:N0} bytes (Feeds:MaxFeedBytes): {why}.");

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string NetworkDetail(HttpRequestException ex, Uri url)
    {
        var what = ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "The host name could not be resolved",
            HttpRequestError.ConnectionError => "No connection to the server",
            HttpRequestError.SecureConnectionError => "The TLS connection failed",
            HttpRequestError.ResponseEnded => "The server closed the connection before answering",
            _ => "The request failed",
        };
        return $"{what}: {Scrub(ex.InnerException?.Message ?? ex.Message, url)}";
    }

    /// <summary>Exception texts may quote the request URL; its query (a CMS secret) must not travel on into logs or the dashboard.</summary>
    private static string Scrub(string message, Uri url) =>
        url.Query.Length > 1 || url.UserInfo.Length > 0 ? message.Replace(url.OriginalString, FeedUrl.ForLog(url)).Replace(url.AbsoluteUri, FeedUrl.ForLog(url)) : message;

    private FetchResult Log(Uri url, FetchResult result, long elapsedMs)
    {
        // Host and path only (FeedUrl.ForLog): the query of a feed URL may be its access key.
        var where = FeedUrl.ForLog(url);
        switch (result)
        {
            case FetchResult.Fetched fetched:
                logger.LogInformation("Feed {Feed} fetched in {ElapsedMs} ms: {Count} entries", where, elapsedMs, fetched.Entries.Count);
                break;
            case FetchResult.NotModified:
                logger.LogDebug("Feed {Feed} not modified ({ElapsedMs} ms)", where, elapsedMs);
                break;
            case FetchResult.Failed failed:
                logger.LogWarning("Feed {Feed} failed after {ElapsedMs} ms: {Error} {Detail}", where, elapsedMs, failed.Error, failed.Detail);
                break;
        }
        return result;
    }

    private static string Version()
    {
        var version = typeof(FeedFetcher).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0";
        var plus = version.IndexOf('+');
        return plus > 0 ? version[..plus] : version;
    }
}
