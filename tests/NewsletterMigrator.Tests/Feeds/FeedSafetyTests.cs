using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// What a broken or hostile feed gets: a clear failure instead of an exception, no DTD and no entity expansion, no
/// file read on the document's behalf, and no feed secret in the logs.
/// </summary>
public sealed class FeedSafetyTests
{
    [Theory]
    [InlineData("<rss version=\"2.0\"><channel><title>t</title><item><title>Kaputt</item></channel></rss>")]
    [InlineData("<rss version=\"2.0\"><channel><title>t</title><item><title>Abgeschnitten</title>")]
    [InlineData("<rss version=\"2.0\"><channel><title>Müll &nbsp; ohne DTD</title></channel></rss>")]
    public async Task Malformed_xml_is_a_malformed_failure_naming_the_problem(string xml)
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", xml);

        var failed = await FeedSteps.Fetcher().FailedAsync(server.Url("/rss"), FeedFetchError.Malformed);

        Assert.StartsWith("The XML is not well-formed", failed.Detail);
    }

    [Fact]
    public async Task An_entity_expansion_attack_is_refused_before_any_entity_is_expanded()
    {
        var laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [
              <!ENTITY a "lollollollollollollollollollol">
              <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
              <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
              <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
              <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
              <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
              <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
            ]>
            <rss version="2.0"><channel><title>&g;</title><item><title>&g;</title><link>https://portal.example/1</link></item></channel></rss>
            """;
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", laughs);

        var failed = await FeedSteps.Fetcher().FailedAsync(server.Url("/rss"), FeedFetchError.Malformed);

        Assert.Contains("DTD", failed.Detail);
    }

    [Fact]
    public async Task An_external_entity_cannot_read_a_file_of_the_server()
    {
        var secret = Path.Combine(Path.GetTempPath(), $"feed-secret-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(secret, "GEHEIM-4711");
        try
        {
            var xxe = $"""
                <?xml version="1.0"?>
                <!DOCTYPE rss [ <!ENTITY leak SYSTEM "file://{secret}"> ]>
                <rss version="2.0"><channel><title>t</title><item><title>&leak;</title><link>https://portal.example/1</link></item></channel></rss>
                """;

            var result = FeedParser.Parse(Encoding.UTF8.GetBytes(xxe), new Uri("https://portal.example/rss"));

            var failed = Assert.IsType<FetchResult.Failed>(result);
            Assert.Equal(FeedFetchError.Malformed, failed.Error);
            Assert.DoesNotContain("GEHEIM", failed.Detail);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html><head><title>Wartungsarbeiten</title></head><body>Bald wieder da</body></html>", "HTML page")]
    [InlineData("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><channel/></rdf:RDF>", "rdf:RDF")]
    [InlineData("{\"status\":\"ok\",\"items\":[]}", "JSON Feed")]
    [InlineData("Feed nicht gefunden", "neither XML nor JSON")]
    public async Task A_document_that_is_no_feed_is_an_unsupported_format_failure_saying_what_it_is(string body, string expected)
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", body, "text/html");

        var failed = await FeedSteps.Fetcher().FailedAsync(server.Url("/rss"), FeedFetchError.UnsupportedFormat);

        Assert.Contains(expected, failed.Detail);
    }

    [Theory]
    [InlineData("portal-rss.xml")]
    [InlineData("newsroom-atom.xml")]
    [InlineData("podcast-jsonfeed.json")]
    public void A_sample_feed_cut_off_anywhere_is_an_outcome_never_an_exception(string sample)
    {
        var bytes = Encoding.UTF8.GetBytes(FeedSteps.Sample(sample));
        for (var length = 0; length < bytes.Length; length += 37)
        {
            var result = FeedParser.Parse(bytes.AsMemory(0, length), new Uri("https://portal.example/feed"));

            // Every cut leaves an element or a JSON value open: a Malformed outcome, never an exception for the poller.
            if (result is FetchResult.Failed failed) Assert.Equal(FeedFetchError.Malformed, failed.Error);
        }
    }

    [Fact]
    public async Task Broken_json_is_a_malformed_failure()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/feed.json", "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":", "application/feed+json");

        var failed = await FeedSteps.Fetcher().FailedAsync(server.Url("/feed.json"), FeedFetchError.Malformed);

        Assert.StartsWith("The JSON is not well-formed", failed.Detail);
    }

    [Fact]
    public async Task An_empty_answer_is_a_malformed_failure()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", "");

        await FeedSteps.Fetcher().FailedAsync(server.Url("/rss"), FeedFetchError.Malformed);
    }

    [Fact]
    public async Task A_feed_with_a_byte_order_mark_and_a_blank_line_before_the_declaration_still_reads()
    {
        await using var server = await TestFeedServer.StartAsync();
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("\n\n<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Grüße</title><link>https://portal.example/1</link></item></channel></rss>")).ToArray();
        server.Serve("/rss", body, "application/rss+xml");

        var feed = await FeedSteps.Fetcher().FetchedAsync(server.Url("/rss"));

        Assert.Equal("Grüße", Assert.Single(feed.Entries).Title);
    }

    [Fact]
    public async Task Items_repeating_a_guid_keep_the_first_and_items_without_guid_or_link_are_skipped()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss", """
            <rss version="2.0"><channel><title>t</title>
              <item><title>Erste Fassung</title><guid isPermaLink="false">artikel-1</guid><link>https://portal.example/1</link></item>
              <item><title>Ohne alles</title><description>Nichts, woran man es wiedererkennt.</description></item>
              <item><title>Zweite Fassung</title><guid isPermaLink="false">artikel-1</guid><link>https://portal.example/1?v=2</link></item>
              <item><title>Anderer Artikel</title><guid isPermaLink="false">artikel-2</guid></item>
              <item><title>Gleicher Link ohne guid</title><link>https://portal.example/3</link></item>
              <item><title>Gleicher Link noch einmal</title><link>https://portal.example/3</link></item>
            </channel></rss>
            """);

        var feed = await FeedSteps.Fetcher().FetchedAsync(server.Url("/rss"));

        Assert.Equal(["Erste Fassung", "Anderer Artikel", "Gleicher Link ohne guid"], feed.Entries.Select(e => e.Title));
        Assert.Equal(["artikel-1", "artikel-2", "https://portal.example/3"], feed.Entries.Select(e => e.Key));
    }

    [Fact]
    public async Task The_logs_name_the_feed_by_host_and_path_and_never_show_its_query_secret_C20()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Feeds:FetchTimeout"] = "00:00:02" }).Build())
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddFeedFetching()
            .BuildServiceProvider();
        await using var _ = services;
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/cms/feed.xml", "<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><link>https://portal.example/1</link></item></channel></rss>");
        server.Serve("/cms/broken.xml", "<rss>");
        var fetcher = services.GetRequiredService<FeedFetcher>();

        Assert.IsType<FetchResult.Fetched>(await fetcher.FetchAsync(server.Url("/cms/feed.xml?token=cms-secret-8d1f&user=redaktion"), null, CancellationToken.None));
        Assert.IsType<FetchResult.Failed>(await fetcher.FetchAsync(server.Url("/cms/broken.xml?token=cms-secret-8d1f"), null, CancellationToken.None));
        Assert.IsType<FetchResult.Failed>(await fetcher.FetchAsync(server.Url("/cms/missing.xml?token=cms-secret-8d1f"), null, CancellationToken.None));
        var down = server.Url("/cms/feed.xml?token=cms-secret-8d1f");
        await server.DisposeAsync();
        Assert.IsType<FetchResult.Failed>(await fetcher.FetchAsync(down, null, CancellationToken.None));

        Assert.Contains(logs.Lines, l => l.Contains($"{server.BaseUri.Authority}/cms/feed.xml", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("cms-secret-8d1f", StringComparison.Ordinal) || l.Contains("redaktion", StringComparison.Ordinal));
        Assert.Equal(4, server.Requests.Count(r => r.Query.Contains("cms-secret-8d1f")) + 1); // the secret did reach the CMS
    }

    [Theory]
    [InlineData("Feeds:PollInterval", "00:00:00.500")]
    [InlineData("Feeds:FetchTimeout", "00:00:00")]
    [InlineData("Feeds:MaxFeedBytes", "10")]
    [InlineData("Feeds:MaxBackOff", "00:01:00")]
    public void A_wrong_feed_setting_stops_start_up_naming_the_key(string key, string value)
    {
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build())
            .AddLogging()
            .AddFeedFetching()
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void The_default_feed_settings_are_valid()
    {
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddLogging()
            .AddFeedFetching()
            .AddFeedFetching()
            .BuildServiceProvider();

        services.GetRequiredService<IStartupValidator>().Validate();
        var options = services.GetRequiredService<IOptions<FeedOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(5), options.PollInterval);
        Assert.NotNull(services.GetRequiredService<FeedFetcher>());
    }
}
