using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// Makes the digests that are due: the items a digest feed collected since its last digest, as one campaign. Nothing is
/// sent when there are no items. Once across instances: moving the feed's next digest time on is the claim, in the
/// same transaction that makes the campaign and marks the items.
/// A digest waits for the feed's fetch at its time (<see cref="FeedPolling.DueForDigestAsync"/>), so it holds what the CMS
/// published up to that minute; a fetch that cannot happen (a poller that crashed holding the feed) holds it back at most
/// as long as that poller's claim lasts.
/// </summary>
public sealed class FeedDigests(AppDbContext db, FeedCampaigns campaigns, Outbox outbox, IOptions<FeedOptions> options, TimeProvider clock)
{
    public async Task<int> MakeDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var stopWaiting = now - FeedPolling.ClaimLength(options.Value);
        var due = await db.Feeds.AsNoTracking()
            .Where(f => f.Enabled && f.Mode == FeedMode.Digest && f.NextDigestAtUtc <= now
                        && (f.LastPolledAtUtc >= f.NextDigestAtUtc || f.NextDigestAtUtc <= stopWaiting))
            .Select(f => f.Id).ToListAsync(ct);
        var made = 0;
        foreach (var id in due)
            if (await MakeAsync(id, now, ct)) made++;
        return made;
    }

    private async Task<bool> MakeAsync(int feedId, DateTime now, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var feed = await db.Feeds.AsNoTracking().SingleOrDefaultAsync(f => f.Id == feedId, ct);
        if (feed?.NextDigestAtUtc is not { } slot || slot > now) return false;
        var next = DigestSchedule.Next(now, feed.DigestMinuteOfDay, feed.DigestWeekdays);
        var claimed = await db.Feeds.Where(f => f.Id == feedId && f.NextDigestAtUtc == slot)
            .ExecuteUpdateAsync(u => u.SetProperty(f => f.NextDigestAtUtc, next), ct);
        if (claimed == 0) return false; // another instance makes this digest

        var pending = await db.FeedItems.Where(i => i.FeedId == feedId && i.State == FeedItemState.Pending)
            .OrderByDescending(i => i.PublishedUtc ?? i.FirstSeenAtUtc).ThenByDescending(i => i.Id).ToListAsync(ct);
        Campaign? campaign = null;
        var newsletter = pending.Count == 0 ? null : await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == feed.NewsletterId, ct);
        // Not open yet (C38): no campaign; the items wait for the first digest after it opens.
        if (newsletter is not null && LegalReadiness.IsOpen(newsletter))
        {
            var chosen = pending.Take(FeedMail.MaxDigestItems).ToList();
            campaign = await campaigns.DigestAsync(feed, newsletter, chosen, now, ct);
            foreach (var item in chosen) { item.State = FeedItemState.InCampaign; item.CampaignId = campaign.Id; }
            // Older than the newest MaxDigestItems: a round-up, not an archive; they are not carried into the next one.
            foreach (var item in pending.Skip(FeedMail.MaxDigestItems)) item.State = FeedItemState.Skipped;
            if (!feed.AutoSend) await campaigns.NotifyDraftWaitingAsync(campaign, ct);
            await db.SaveChangesAsync(ct);
        }
        await transaction.CommitAsync(ct);
        db.ChangeTracker.Clear();
        if (campaign is not null) outbox.Wake();
        return campaign is not null;
    }
}
