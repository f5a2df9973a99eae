using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// Turns feed items into campaigns, inside the caller's transaction: breaking news (sent at once, or a draft for
/// approval when the feed says so or its daily maximum is reached) and digests. A campaign that goes out by itself is
/// created Scheduled for now, so the campaign scheduler starts it (once across instances, and again after a crash).
/// </summary>
public sealed class FeedCampaigns(AppDbContext db, FeedMail mail, Outbox outbox)
{
    /// <summary>The audit trail's actor and the campaigns' author.</summary>
    public static string Actor(int feedId) => $"feed:{feedId}";

    /// <summary>The outcome for one breaking item: sent by itself, or a draft waiting for an editor.</summary>
    public enum BreakingOutcome { Scheduled, AwaitingApproval, OverDailyMaximum }

    public async Task<(Campaign Campaign, BreakingOutcome Outcome)> BreakingAsync(Feed feed, Newsletter newsletter, FeedItem item, DateTime now, CancellationToken ct)
    {
        var outcome = !feed.AutoSend ? BreakingOutcome.AwaitingApproval
            : await SentTodayAsync(feed.Id, now, ct) >= feed.MaxPerDay ? BreakingOutcome.OverDailyMaximum
            : BreakingOutcome.Scheduled;
        var draft = mail.Breaking(newsletter, item);
        var campaign = NewCampaign(feed, draft, now, breaking: true, send: outcome == BreakingOutcome.Scheduled);
        await db.SaveChangesAsync(ct);
        db.Audit(Actor(feed.Id), "feed-breaking", $"campaign {campaign.Id} from feed {feed.Id}: {outcome}", now);
        return (campaign, outcome);
    }

    public async Task<Campaign> DigestAsync(Feed feed, Newsletter newsletter, IReadOnlyList<FeedItem> items, DateTime now, CancellationToken ct)
    {
        var campaign = NewCampaign(feed, mail.Digest(newsletter, items, now), now, breaking: false, send: feed.AutoSend);
        await db.SaveChangesAsync(ct);
        db.Audit(Actor(feed.Id), "feed-digest", $"campaign {campaign.Id} from feed {feed.Id} with {items.Count} items", now);
        return campaign;
    }

    /// <summary>
    /// Breaking campaigns of this feed that left draft today (Berlin day): sent by themselves or approved by an editor, also
    /// one cancelled after it was scheduled. The maximum protects readers from a flood of mails, whoever released them.
    /// </summary>
    public Task<int> SentTodayAsync(int feedId, DateTime now, CancellationToken ct)
    {
        var dayStart = Berlin.ToUtc(Berlin.ToLocal(now).Date);
        return db.Campaigns.CountAsync(c => c.FeedId == feedId && c.Breaking && c.Status != CampaignStatus.Draft
            && (c.ScheduledForUtc ?? c.StartedAtUtc) >= dayStart, ct);
    }

    /// <summary>
    /// One note per poll to the newsletter's editors (and admins) that drafts wait: the mail is built when it goes and names
    /// the newest draft, and is dropped if that draft no longer waits by then.
    /// </summary>
    public async Task NotifyDraftWaitingAsync(Campaign newestDraft, CancellationToken ct)
    {
        var staff = await db.ActiveOnNewsletter(newestDraft.NewsletterId).AsNoTracking().Select(u => new { u.Email, u.Language }).ToListAsync(ct);
        foreach (var person in staff)
            if (EmailAddress.TryNormalize(person.Email, out var address))
                outbox.Queue(MessageKind.FeedDraftWaiting, newestDraft.NewsletterId, address, person.Language, campaignId: newestDraft.Id);
    }

    private Campaign NewCampaign(Feed feed, FeedMail.Draft draft, DateTime now, bool breaking, bool send)
    {
        var campaign = new Campaign
        {
            NewsletterId = feed.NewsletterId,
            Subject = draft.Subject,
            Preheader = draft.Preheader,
            BodyMarkdown = draft.BodyMarkdown,
            Status = send ? CampaignStatus.Scheduled : CampaignStatus.Draft,
            ScheduledForUtc = send ? now : null,
            CreatedBy = Actor(feed.Id),
            CreatedAtUtc = now,
            FeedId = feed.Id,
            Breaking = breaking,
        };
        db.Campaigns.Add(campaign);
        return campaign;
    }
}
