using System.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Feeds;

/// <summary>A portal's RSS as its CMS writes it, and the steps the feed tests share.</summary>
public static class FeedTestData
{
    public sealed record Story(string Guid, string Title, string? Category = null, string? Summary = null, string? Image = null, DateTime? Published = null);

    public static string Rss(params Story[] stories) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
          <channel>
            <title>Tagblatt – Eilmeldungen</title>
            <link>https://www.tagblatt.example/</link>
            <description>Die neuesten Meldungen</description>
            {string.Concat(stories.Select(Item))}
          </channel>
        </rss>
        """;

    private static string Item(Story s) => $"""
            <item>
              <guid isPermaLink="false">{SecurityElement.Escape(s.Guid)}</guid>
              <title>{SecurityElement.Escape(s.Title)}</title>
              <link>https://www.tagblatt.example/artikel/{Uri.EscapeDataString(s.Guid)}</link>
              <description>{SecurityElement.Escape(s.Summary ?? "Was bisher bekannt ist: " + s.Title)}</description>
              {(s.Category is null ? "" : $"<category>{SecurityElement.Escape(s.Category)}</category>")}
              {(s.Image is null ? "" : $"<media:content url=\"{SecurityElement.Escape(s.Image)}\" medium=\"image\" />")}
              <pubDate>{(s.Published ?? DateTime.UtcNow).ToString("r")}</pubDate>
            </item>
        """;

    /// <summary>Polls every second, so a test sees the worker act within a few seconds.</summary>
    public static Dictionary<string, string?> FastPolling => new() { ["Feeds:PollInterval"] = "00:00:01" };

    public static async Task<int> AddFeedAsync(this AppFactory app, Newsletter newsletter, Uri url, FeedSettings? settings = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<FeedService>()
            .AddAsync(newsletter.Id, (settings ?? new FeedSettings("", FeedMode.Breaking, AutoSend: true, Category: null)) with { Url = url.ToString() }, "redaktion@example.test");
        return result.FeedId ?? throw new InvalidOperationException("Feed refused: " + string.Join(", ", result.Errors));
    }

    public static Task<Feed> FeedRowAsync(this AppFactory app, int id) => app.WithDbAsync(db => db.Feeds.AsNoTracking().SingleAsync(f => f.Id == id));

    /// <summary>Waits until the feed's row satisfies <paramref name="until"/>.</summary>
    public static async Task<Feed> WaitForPollAsync(this AppFactory app, int feedId, Func<Feed, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var feed = await app.FeedRowAsync(feedId);
            if (until(feed)) return feed;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Feed {feedId}: last success {feed.LastSuccessAtUtc:O}, failures {feed.ConsecutiveFailures}, {feed.LastError}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the server has answered <paramref name="count"/> requests for the path and the app has recorded the last one.</summary>
    public static async Task WaitForRequestsAsync(this AppFactory app, TestFeedServer server, string path, int feedId, int count)
    {
        _ = app.Services; // a factory starts its host (and the worker) on first use
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (server.RequestCount(path) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                var feed = await app.FeedRowAsync(feedId);
                throw new TimeoutException($"Only {server.RequestCount(path)} requests to {path}; the feed was last polled {feed.LastPolledAtUtc:O}, is due {feed.NextPollAtUtc:O} (now {DateTime.UtcNow:O}), {feed.ConsecutiveFailures} failures: {feed.LastError}");
            }
            await Task.Delay(50);
        }
        var after = server.LastRequest(path).At.UtcDateTime;
        await app.WaitForPollAsync(feedId, f => f.LastPolledAtUtc >= after);
    }

    public static Task<List<Campaign>> FeedCampaignsAsync(this AppFactory app, int feedId) =>
        app.WithDbAsync(db => db.Campaigns.AsNoTracking().Where(c => c.FeedId == feedId).OrderBy(c => c.Id).ToListAsync());

    public static async Task<List<Campaign>> WaitForFeedCampaignsAsync(this AppFactory app, int feedId, int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var campaigns = await app.FeedCampaignsAsync(feedId);
            if (campaigns.Count >= count) return campaigns;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{campaigns.Count} campaigns of feed {feedId}, expected {count}");
            await Task.Delay(100);
        }
    }
}
