using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NewsletterMigrator.Testing;

/// <summary>
/// A real Kestrel server on a loopback port, serving feeds the way a portal's CMS does. Each path's answer can be
/// changed between requests (content, ETag, Last-Modified, a failure status, a delay, a huge body), and the server
/// counts requests and records the conditional headers it received.
/// <code>
/// await using var server = await TestFeedServer.StartAsync();
/// server.Serve("/rss", xml, "application/rss+xml", etag: "\"1\"");
/// var result = await fetcher.FetchAsync(server.Url("/rss"), null, ct);
/// </code>
/// A path answers 304 when the request's If-None-Match equals its ETag, or (without If-None-Match) when
/// If-Modified-Since equals its Last-Modified: the exact-match check servers and CDNs do.
/// </summary>
public sealed class TestFeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FeedRequest> _requests = new();
    private long _bytesWritten;

    private TestFeedServer(WebApplication app) => _app = app;

    /// <summary>Where the server listens, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Every request in arrival order, all paths.</summary>
    public IReadOnlyList<FeedRequest> Requests => _requests.ToArray();

    /// <summary>Body bytes written by huge answers so far: shows a client stopped reading early.</summary>
    public long HugeBytesWritten => Interlocked.Read(ref _bytesWritten);

    public static async Task<TestFeedServer> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new TestFeedServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>The absolute URL of a path (with its query, if any) on this server.</summary>
    public Uri Url(string pathAndQuery) => new(BaseUri, pathAndQuery);

    /// <summary>Answer 200 with this content from now on (clears a <see cref="Fail"/>); keeps the path's delay.</summary>
    public void Serve(string path, string content, string contentType = "application/rss+xml; charset=utf-8",
        string? etag = null, string? lastModified = null) =>
        Serve(path, Encoding.UTF8.GetBytes(content), contentType, etag, lastModified);

    public void Serve(string path, byte[] content, string contentType, string? etag = null, string? lastModified = null) =>
        Update(path, r => r with { Body = content, ContentType = contentType, ETag = etag, LastModified = lastModified, Status = null, HugeBytes = null });

    /// <summary>Answer with this status (e.g. 500, 404) until the next <see cref="Serve(string,string,string,string?,string?)"/>.</summary>
    public void Fail(string path, int status) => Update(path, r => r with { Status = status });

    /// <summary>
    /// Wait this long before answering (<paramref name="midBody"/>: send the headers and half the body at once, then
    /// wait before the rest, a server that trickles). <see cref="TimeSpan.Zero"/> clears it.
    /// </summary>
    public void Delay(string path, TimeSpan delay, bool midBody = false) => Update(path, r => r with { Delay = delay, DelayMidBody = midBody });

    /// <summary>
    /// A 200 of <paramref name="bytes"/> bytes of an RSS document that never ends, in 64 KiB chunks about a millisecond
    /// apart (200 MB take seconds): a client that reads it all runs into its timeout, one that stops at its limit does not.
    /// </summary>
    public void ServeHuge(string path, long bytes, bool announceLength) =>
        Update(path, r => r with { HugeBytes = bytes, HugeAnnounced = announceLength, Status = null, ContentType = "application/rss+xml" });

    /// <summary>Answer with a redirect to <paramref name="location"/> (absolute or relative).</summary>
    public void Redirect(string path, string location, int status = 302) => Update(path, r => r with { Status = status, Location = location });

    /// <summary>How many requests reached this path (the query is ignored).</summary>
    public int RequestCount(string path) => _requests.Count(r => r.Path == PathOf(path));

    /// <summary>The requests that reached this path, oldest first.</summary>
    public IReadOnlyList<FeedRequest> RequestsTo(string path) => _requests.Where(r => r.Path == PathOf(path)).ToArray();

    /// <summary>The last request that reached this path.</summary>
    public FeedRequest LastRequest(string path) => RequestsTo(path)[^1];

    public async ValueTask DisposeAsync()
    {
        // A request still held by a Delay is cut off rather than waited for.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private static string PathOf(string pathAndQuery) => pathAndQuery.Split('?')[0];

    private void Update(string path, Func<Route, Route> change) =>
        _routes.AddOrUpdate(PathOf(path), _ => change(new Route()), (_, old) => change(old));

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        _requests.Enqueue(new FeedRequest(path, request.QueryString.Value ?? "", Value(request.Headers.IfNoneMatch), Value(request.Headers.IfModifiedSince),
            Value(request.Headers.UserAgent), Value(request.Headers.Accept), DateTimeOffset.UtcNow));
        var ct = context.RequestAborted;
        if (!_routes.TryGetValue(path, out var route))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (route.Delay > TimeSpan.Zero && !route.DelayMidBody) await Task.Delay(route.Delay, ct);
        var response = context.Response;
        if (route.Status is { } status)
        {
            response.StatusCode = status;
            if (route.Location is not null && status is >= 300 and < 400) response.Headers.Location = route.Location;
            return;
        }
        if (route.HugeBytes is { } huge)
        {
            await WriteHugeAsync(response, huge, route.HugeAnnounced, ct);
            return;
        }
        if (route.ETag is not null) response.Headers.ETag = route.ETag;
        if (route.LastModified is not null) response.Headers.LastModified = route.LastModified;
        var ifNoneMatch = Value(request.Headers.IfNoneMatch);
        if ((ifNoneMatch is not null && ifNoneMatch == route.ETag)
            || (ifNoneMatch is null && route.LastModified is not null && Value(request.Headers.IfModifiedSince) == route.LastModified))
        {
            response.StatusCode = 304;
            return;
        }
        response.ContentType = route.ContentType;
        response.ContentLength = route.Body.Length;
        if (route.Delay > TimeSpan.Zero && route.DelayMidBody)
        {
            await response.Body.WriteAsync(route.Body.AsMemory(0, route.Body.Length / 2), ct);
            await response.Body.FlushAsync(ct);
            await Task.Delay(route.Delay, ct);
            await response.Body.WriteAsync(route.Body.AsMemory(route.Body.Length / 2), ct);
            return;
        }
        await response.Body.WriteAsync(route.Body, ct);
    }

    private async Task WriteHugeAsync(HttpResponse response, long bytes, bool announce, CancellationToken ct)
    {
        response.ContentType = "application/rss+xml";
        if (announce) response.ContentLength = bytes;
        var head = Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Endless</title><description>");
        var filler = Encoding.UTF8.GetBytes(new string('x', 64 * 1024));
        try
        {
            await response.Body.WriteAsync(head, ct);
            var written = (long)head.Length;
            Interlocked.Add(ref _bytesWritten, head.Length);
            // Kestrel completes writes silently once the client is gone: the abort token is what tells.
            while (written < bytes && !ct.IsCancellationRequested)
            {
                var count = (int)Math.Min(filler.Length, bytes - written);
                await response.Body.WriteAsync(filler.AsMemory(0, count), ct);
                written += count;
                Interlocked.Add(ref _bytesWritten, count);
                await Task.Delay(1, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client hung up once it had enough: what a limit is for.
        }
    }

    private static string? Value(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();

    private sealed record Route
    {
        public byte[] Body { get; init; } = [];
        public string ContentType { get; init; } = "application/rss+xml; charset=utf-8";
        public string? ETag { get; init; }
        public string? LastModified { get; init; }
        public int? Status { get; init; }
        public string? Location { get; init; }
        public TimeSpan Delay { get; init; }
        public bool DelayMidBody { get; init; }
        public long? HugeBytes { get; init; }
        public bool HugeAnnounced { get; init; }
    }
}

/// <summary>What one request to the <see cref="TestFeedServer"/> carried.</summary>
public sealed record FeedRequest(string Path, string Query, string? IfNoneMatch, string? IfModifiedSince, string? UserAgent, string? Accept, DateTimeOffset At);
