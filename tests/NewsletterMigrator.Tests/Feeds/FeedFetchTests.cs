using System.Diagnostics;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The fetch against a real Kestrel server: conditional GET, a feed that changes between polls, servers that fail,
/// are slow or send far too much, and addresses that must not be fetched at all.
/// </summary>
public sealed class FeedFetchTests
{
    private const string LastModified = "Tue, 03 Mar 2026 13:05:00 GMT";

    private static string Rss(params string[] titles) =>
        "<rss version=\"2.0\"><channel><title>Portal</title>" +
        string.Concat(titles.Select((t, i) => $"<item><title>{t}</title><guid isPermaLink=\"false\">id-{t}</guid><link>https://portal.example/{i}</link></item>")) +
        "</channel></rss>";

    [Fact]
    public async Task A_second_poll_sends_the_validators_of_the_first_and_an_unchanged_feed_answers_not_modified()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"), "application/rss+xml", etag: "W/\"v1\"", lastModified: LastModified);
        var fetcher = FeedSteps.Fetcher();

        var first = await fetcher.FetchedAsync(server.Url("/rss"));
        var second = await fetcher.FetchAsync(server.Url("/rss"), first.Validators, CancellationToken.None);

        Assert.Equal(new FeedValidators("W/\"v1\"", LastModified), first.Validators);
        Assert.IsType<FetchResult.NotModified>(second);
        var requests = server.RequestsTo("/rss");
        Assert.Equal(2, requests.Count);
        Assert.Null(requests[0].IfNoneMatch);
        Assert.Null(requests[0].IfModifiedSince);
        Assert.Equal("W/\"v1\"", requests[1].IfNoneMatch); // exactly as received, weak tag included
        Assert.Equal(LastModified, requests[1].IfModifiedSince);
    }

    [Fact]
    public async Task A_server_with_only_last_modified_also_answers_not_modified()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"), lastModified: LastModified);
        var fetcher = FeedSteps.Fetcher();

        var first = await fetcher.FetchedAsync(server.Url("/rss"));

        Assert.Equal(new FeedValidators(null, LastModified), first.Validators);
        Assert.IsType<FetchResult.NotModified>(await fetcher.FetchAsync(server.Url("/rss"), first.Validators, CancellationToken.None));
    }

    [Fact]
    public async Task A_feed_that_changed_between_polls_is_fetched_again_with_its_new_items_and_validators()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"), etag: "\"1\"");
        var fetcher = FeedSteps.Fetcher();
        var first = await fetcher.FetchedAsync(server.Url("/rss"));

        server.Serve("/rss", Rss("Zwei", "Eins"), etag: "\"2\"");
        var second = await fetcher.FetchedAsync(server.Url("/rss"), first.Validators);

        Assert.Equal(["Zwei", "Eins"], second.Entries.Select(e => e.Title));
        Assert.Equal("\"2\"", second.Validators.ETag);
        Assert.Equal("\"1\"", server.LastRequest("/rss").IfNoneMatch);
    }

    [Fact]
    public async Task Every_request_names_the_app_as_user_agent_and_asks_for_feed_formats()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"));

        await FeedSteps.Fetcher().FetchedAsync(server.Url("/rss"));

        var request = server.LastRequest("/rss");
        Assert.StartsWith("NewsletterMigrator/", request.UserAgent);
        Assert.Contains("application/rss+xml", request.Accept);
        Assert.Contains("application/feed+json", request.Accept);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(404)]
    [InlineData(403)]
    public async Task A_server_error_or_missing_feed_is_an_http_status_failure_and_the_next_serve_works_again(int status)
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"));
        server.Fail("/rss", status);
        var fetcher = FeedSteps.Fetcher();

        var failed = await fetcher.FailedAsync(server.Url("/rss"), FeedFetchError.HttpStatus);

        Assert.StartsWith($"HTTP {status}", failed.Detail);
        server.Serve("/rss", Rss("Eins"));
        await fetcher.FetchedAsync(server.Url("/rss"));
    }

    [Fact]
    public async Task A_server_that_is_down_is_a_network_failure()
    {
        var server = await TestFeedServer.StartAsync();
        var url = server.Url("/rss");
        await server.DisposeAsync();

        var failed = await FeedSteps.Fetcher().FailedAsync(url, FeedFetchError.Network);

        Assert.StartsWith("No connection to the server", failed.Detail);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_in_time_is_a_timeout_failure_after_the_fetch_timeout()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"));
        server.Delay("/rss", TimeSpan.FromSeconds(30));
        var watch = Stopwatch.StartNew();

        var failed = await FeedSteps.Fetcher(new FeedOptions { FetchTimeout = TimeSpan.FromSeconds(1) }).FailedAsync(server.Url("/rss"), FeedFetchError.Timeout);

        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.Contains("Feeds:FetchTimeout", failed.Detail);
    }

    [Fact]
    public async Task A_server_that_sends_its_headers_at_once_but_trickles_the_body_is_a_timeout_failure_too()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins", "Zwei"));
        server.Delay("/rss", TimeSpan.FromSeconds(30), midBody: true);
        var watch = Stopwatch.StartNew();

        await FeedSteps.Fetcher(new FeedOptions { FetchTimeout = TimeSpan.FromSeconds(1) }).FailedAsync(server.Url("/rss"), FeedFetchError.Timeout);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_caller_that_stops_polling_gets_its_cancellation_not_a_timeout()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", Rss("Eins"));
        server.Delay("/rss", TimeSpan.FromSeconds(30));
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FeedSteps.Fetcher().FetchAsync(server.Url("/rss"), null, shutdown.Token));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_huge_feed_is_refused_as_too_large_without_reading_it_all(bool announceLength)
    {
        await using var server = await TestFeedServer.StartAsync();
        const long huge = 200L * 1024 * 1024;
        server.ServeHuge("/rss", huge, announceLength);

        // Reading all 200 MB would take longer than the timeout: TooLarge (not Timeout) shows the fetch stopped at the limit.
        var failed = await FeedSteps.Fetcher(new FeedOptions { MaxFeedBytes = 1024 * 1024, FetchTimeout = TimeSpan.FromSeconds(3) })
            .FailedAsync(server.Url("/rss"), FeedFetchError.TooLarge);

        Assert.Contains("Feeds:MaxFeedBytes", failed.Detail);
        Assert.Contains(announceLength ? "announces" : "grew past", failed.Detail);
        // The client hung up: the server got only a small part of the 200 MB out (socket buffers hold a few MB).
        await Task.Delay(300);
        Assert.True(server.HugeBytesWritten < 32L * 1024 * 1024, $"server wrote {server.HugeBytesWritten:N0} bytes");
    }

    [Fact]
    public async Task A_feed_just_under_the_size_limit_is_read()
    {
        await using var server = await TestFeedServer.StartAsync();
        var rss = Rss("Eins");
        server.Serve("/rss", rss);

        var feed = await FeedSteps.Fetcher(new FeedOptions { MaxFeedBytes = System.Text.Encoding.UTF8.GetByteCount(rss) }).FetchedAsync(server.Url("/rss"));

        Assert.Single(feed.Entries);
    }

    [Fact]
    public async Task A_redirect_is_followed_and_relative_links_resolve_against_where_the_feed_was_found()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/neu/rss", "<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><link>artikel-1.html</link></item></channel></rss>");
        server.Redirect("/alt/rss", "/neu/rss", 301);

        var feed = await FeedSteps.Fetcher().FetchedAsync(server.Url("/alt/rss"));

        Assert.Equal(server.Url("/neu/artikel-1.html").AbsoluteUri, Assert.Single(feed.Entries).Link);
    }

    [Fact]
    public async Task A_redirect_loop_stops_after_a_few_hops_as_an_http_status_failure()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Redirect("/a", "/b");
        server.Redirect("/b", "/a");

        var failed = await FeedSteps.Fetcher().FailedAsync(server.Url("/a"), FeedFetchError.HttpStatus);

        Assert.Contains("redirect", failed.Detail);
        Assert.InRange(server.RequestCount("/a") + server.RequestCount("/b"), 2, FeedFetcher.MaxRedirects + 1);
    }

    [Theory]
    [InlineData("ftp://portal.example/feed.xml")]
    [InlineData("file:///etc/passwd")]
    [InlineData("gopher://portal.example/")]
    public async Task Only_http_and_https_addresses_are_fetched(string address)
    {
        var failed = await FeedSteps.Fetcher().FailedAsync(new Uri(address), FeedFetchError.InvalidUrl);

        Assert.Contains("http", failed.Detail);
    }

    [Fact]
    public async Task A_relative_address_is_an_invalid_url()
    {
        await FeedSteps.Fetcher().FailedAsync(new Uri("/rss", UriKind.Relative), FeedFetchError.InvalidUrl);
    }
}
