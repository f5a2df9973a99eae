using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// Polls the feeds that are due and takes in their new items. Safe with several instances: a poller claims a feed by
/// moving its due time past the fetch's longest duration (a crashed poller's claim simply expires), and an item is
/// taken by the unique (feed, key) index in the same transaction that makes its campaign, so it is taken once.
/// </summary>
public sealed class FeedPolling(AppDbContext db, FeedFetcher fetcher, FeedCampaigns campaigns, Outbox outbox, IOptions<FeedOptions> options,
    TimeProvider clock, ILogger<FeedPolling> logger)
{
    /// <summary>A claim outlasts the fetch's timeout by this much (the items' transactions after it are short).</summary>
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromMinutes(1);

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>How long a poller holds a feed it claimed: the fetch's longest duration and a margin.</summary>
    public static TimeSpan ClaimLength(FeedOptions options) => options.FetchTimeout + ClaimMargin;

    /// <summary>Polls every due feed this instance can claim; returns how many it polled.</summary>
    public async Task<int> PollDueAsync(CancellationToken ct)
    {
        var now = Now;
        // Whole rows: the claim below changes only the due time, so each is polled as read here, with no second query.
        var due = await db.Feeds.AsNoTracking().Where(f => f.Enabled && f.NextPollAtUtc <= now).OrderBy(f => f.NextPollAtUtc)
            .Take(50).ToListAsync(ct);
        var polled = 0;
        foreach (var feed in due)
        {
            var claimed = await db.Feeds.Where(f => f.Id == feed.Id && f.NextPollAtUtc == feed.NextPollAtUtc)
                .ExecuteUpdateAsync(u => u.SetProperty(f => f.NextPollAtUtc, Now + ClaimLength(options.Value)), ct);
            if (claimed == 0) continue; // another instance polls it
            try
            {
                await PollClaimedAsync(feed, ct);
            }
            catch
            {
                // Shutting down (or a database error) mid-poll: the feed is due again at once, not after the claim's minute.
                // A crash leaves the claim, which expires.
                await db.Feeds.Where(f => f.Id == feed.Id && f.NextPollAtUtc > Now)
                    .ExecuteUpdateAsync(u => u.SetProperty(f => f.NextPollAtUtc, Now), CancellationToken.None);
                throw;
            }
            polled++;
        }
        return polled;
    }

    /// <summary>
    /// Makes a feed whose digest is due due for a poll as well, unless it was polled since the digest's time. Also a feed
    /// in its back-off gets this one try, and one another instance is polling right now may be fetched twice: the unique
    /// (feed, key) index takes each item once all the same.
    /// </summary>
    public Task<int> DueForDigestAsync(CancellationToken ct)
    {
        var now = Now;
        return db.Feeds.Where(f => f.Enabled && f.Mode == FeedMode.Digest && f.NextDigestAtUtc <= now
                                   && (f.LastPolledAtUtc == null || f.LastPolledAtUtc < f.NextDigestAtUtc) && f.NextPollAtUtc > now)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.NextPollAtUtc, now), ct);
    }

    private async Task PollClaimedAsync(Feed feed, CancellationToken ct)
    {
        var url = new Uri(feed.Url);
        var validators = feed.LastSuccessAtUtc is null ? null : new FeedValidators(feed.ETag, feed.LastModified);
        var result = await fetcher.FetchAsync(url, validators, ct);
        var now = Now;
        var interval = options.Value.PollInterval;
        // Conditioned on the URL polled: an editor who pointed the feed elsewhere meanwhile gets a fresh baseline, not these validators.
        var thisFeed = db.Feeds.Where(f => f.Id == feed.Id && f.Url == feed.Url);
        switch (result)
        {
            case FetchResult.Fetched fetched:
                var taken = await TakeInAsync(feed, fetched.Entries, ct);
                await thisFeed.ExecuteUpdateAsync(u => u
                    .SetProperty(f => f.Title, Cut(fetched.FeedTitle, 300) ?? feed.Title)
                    .SetProperty(f => f.ETag, Cut(fetched.Validators.ETag, 300))
                    .SetProperty(f => f.LastModified, Cut(fetched.Validators.LastModified, 100))
                    .SetProperty(f => f.LastPolledAtUtc, now).SetProperty(f => f.LastSuccessAtUtc, now)
                    .SetProperty(f => f.ConsecutiveFailures, 0).SetProperty(f => f.LastError, (string?)null)
                    .SetProperty(f => f.NextPollAtUtc, now + interval), ct);
                if (taken > 0) logger.LogInformation("Feed {FeedId}: {Count} new items", feed.Id, taken);
                break;
            case FetchResult.NotModified:
                await thisFeed.ExecuteUpdateAsync(u => u
                    .SetProperty(f => f.LastPolledAtUtc, now).SetProperty(f => f.LastSuccessAtUtc, now)
                    .SetProperty(f => f.ConsecutiveFailures, 0).SetProperty(f => f.LastError, (string?)null)
                    .SetProperty(f => f.NextPollAtUtc, now + interval), ct);
                break;
            case FetchResult.Failed failed:
                var failures = feed.ConsecutiveFailures + 1;
                var wait = FeedBackOff.After(failures, interval, options.Value.MaxBackOff);
                await thisFeed.ExecuteUpdateAsync(u => u
                    .SetProperty(f => f.LastPolledAtUtc, now).SetProperty(f => f.ConsecutiveFailures, failures)
                    .SetProperty(f => f.LastError, Cut($"{failed.Error}: {failed.Detail}", 500))
                    .SetProperty(f => f.NextPollAtUtc, now + wait), ct);
                logger.LogWarning("Feed {FeedId} ({Url}) failed {Failures} times in a row ({Error}); next try in {Wait}",
                    feed.Id, FeedUrl.ForLog(url), failures, failed.Error, wait);
                break;
        }
    }

    /// <summary>
    /// Records the items not seen before and acts on each in its own short transaction: the first successful fetch is the
    /// baseline (nothing of what a feed already holds is sent), then breaking items become campaigns, digest items wait.
    /// Oldest first, so one poll's breaking news goes out in the order the newsroom published it. Returns the items taken.
    /// </summary>
    private async Task<int> TakeInAsync(Feed feed, IReadOnlyList<FeedEntry> entries, CancellationToken ct)
    {
        var keyed = entries.Select(e => (Entry: e, Hash: KeyHash(e.Key))).DistinctBy(k => k.Hash).ToList();
        var hashes = keyed.Select(k => k.Hash).ToList();
        var known = (await db.FeedItems.Where(i => i.FeedId == feed.Id && hashes.Contains(i.KeyHash)).Select(i => i.KeyHash).ToListAsync(ct)).ToHashSet();
        var fresh = keyed.Where(k => !known.Contains(k.Hash)).Reverse()
            .OrderBy(k => k.Entry.PublishedUtc ?? DateTime.MaxValue).ToList(); // stable: undated items keep (reversed) feed order
        if (fresh.Count == 0) return 0;

        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == feed.NewsletterId, ct);
        var baseline = feed.LastSuccessAtUtc is null;
        // Breaking news while the newsletter is not open yet (C38) would pile up and go out stale the moment it opens.
        var open = LegalReadiness.IsOpen(newsletter);
        var taken = 0;
        var notified = false;
        foreach (var (entry, hash) in fresh)
        {
            var now = Now;
            var state = baseline ? FeedItemState.Baseline
                : !Matches(feed, entry) ? FeedItemState.Skipped
                : feed.Mode == FeedMode.Digest ? FeedItemState.Pending
                : open ? FeedItemState.InCampaign
                : FeedItemState.Skipped;
            var item = new FeedItem
            {
                FeedId = feed.Id, KeyHash = hash, Title = Cut(entry.Title, 500) ?? "", Link = Cut(entry.Link, 2000), Summary = Cut(entry.Summary, 1000),
                ImageUrl = Cut(entry.ImageUrl, 2000), PublishedUtc = entry.PublishedUtc, FirstSeenAtUtc = now, State = state,
            };
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            try
            {
                db.FeedItems.Add(item);
                await db.SaveChangesAsync(ct); // the unique (feed, key) decides who takes the item
                if (state == FeedItemState.InCampaign)
                {
                    var (campaign, outcome) = await campaigns.BreakingAsync(feed, newsletter, item, now, ct);
                    item.CampaignId = campaign.Id;
                    if (outcome != FeedCampaigns.BreakingOutcome.Scheduled && !notified)
                    {
                        await campaigns.NotifyDraftWaitingAsync(campaign, ct);
                        notified = true;
                    }
                    await db.SaveChangesAsync(ct);
                }
                await transaction.CommitAsync(ct);
                taken++;
            }
            catch (DbUpdateException ex) when (UniqueViolation.Is(ex))
            {
                await transaction.RollbackAsync(ct); // another instance took this item first
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
        outbox.Wake();
        return taken;
    }

    internal static bool Matches(Feed feed, FeedEntry entry) =>
        string.IsNullOrWhiteSpace(feed.Category) || entry.Categories.Any(c => string.Equals(c.Trim(), feed.Category.Trim(), StringComparison.OrdinalIgnoreCase));

    internal static string KeyHash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string? Cut(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
