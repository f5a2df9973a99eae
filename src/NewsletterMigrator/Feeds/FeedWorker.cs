using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// Polls due feeds and makes due digests. It looks every poll interval, but at least every 15 seconds: a feed's own due
/// time (after a failure's back-off, or a feed added a moment ago) and a digest's set time come between two polls.
/// </summary>
public sealed class FeedWorker(IServiceScopeFactory scopes, IOptions<FeedOptions> options, ILogger<FeedWorker> logger) : BackgroundService
{
    private static readonly TimeSpan LongestTick = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tick = options.Value.PollInterval < LongestTick ? options.Value.PollInterval : LongestTick;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Feed polling failed; the next round tries again");
                }
                await Task.Delay(tick, stoppingToken); // real time: a test that moves the app clock still gets its rounds
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    /// <summary>
    /// Polls first, and a feed whose digest is due is polled then too, so the digest holds what the CMS published up to
    /// this minute, not up to its last regular poll.
    /// </summary>
    internal async Task RunOnceAsync(CancellationToken ct)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var polling = scope.ServiceProvider.GetRequiredService<FeedPolling>();
            await polling.DueForDigestAsync(ct);
            await polling.PollDueAsync(ct);
        }
        await using (var scope = scopes.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<FeedDigests>().MakeDueAsync(ct);
    }
}
