using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Campaigns;

public sealed class CampaignService(AppDbContext db, Outbox outbox, IOptions<AppOptions> app, TimeProvider clock)
{
    public async Task<int> SaveDraftAsync(int? id, int newsletterId, string subject, string preheader, string bodyMarkdown, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        Campaign? campaign;
        if (id is null)
        {
            campaign = new Campaign { NewsletterId = newsletterId, Subject = subject, Status = CampaignStatus.Draft, CreatedBy = userName, CreatedAtUtc = now };
            db.Campaigns.Add(campaign);
        }
        else
        {
            campaign = await db.Campaigns.SingleAsync(c => c.Id == id, ct);
            if (campaign.Status != CampaignStatus.Draft) throw new InvalidOperationException("Only drafts can be edited.");
            campaign.Subject = subject;
        }
        campaign.Preheader = preheader;
        campaign.BodyMarkdown = bodyMarkdown;
        await db.SaveChangesAsync(ct);
        return campaign.Id;
    }

    /// <summary>Queues a test mail to each address; test mails go before campaign rows.</summary>
    public async Task<int> SendTestAsync(int campaignId, IEnumerable<string> addresses, string userName, CancellationToken ct = default)
    {
        var campaign = await db.Campaigns.AsNoTracking().SingleAsync(c => c.Id == campaignId, ct);
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == campaign.NewsletterId, ct);
        var count = 0;
        foreach (var address in addresses)
        {
            if (!EmailAddress.TryNormalize(address, out var normalized)) continue;
            outbox.Queue(MessageKind.Test, campaign.NewsletterId, normalized, newsletter.DefaultLanguage, campaignId: campaignId);
            count++;
        }
        db.Audit(userName, "test-send", $"campaign {campaignId} to {count} address(es)", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        outbox.Wake();
        return count;
    }

    /// <summary>
    /// Renders the body once and writes one outbox row per confirmed subscriber in a single
    /// INSERT … SELECT; the unique (campaign, subscriber) index makes a repeated start harmless.
    /// </summary>
    public async Task<int> StartAsync(int campaignId, string userName, CancellationToken ct = default)
    {
        var campaign = await db.Campaigns.SingleAsync(c => c.Id == campaignId, ct);
        if (campaign.Status is not (CampaignStatus.Draft or CampaignStatus.Scheduled))
            throw new InvalidOperationException("This campaign has already been started.");
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        campaign.BodyHtml = MarkdownRenderer.ToHtml(campaign.BodyMarkdown);
        campaign.Status = CampaignStatus.Sending;
        campaign.StartedAtUtc = now;
        db.Audit(userName, "send", $"campaign {campaignId}", now);
        await db.SaveChangesAsync(ct);

        var stamp = now.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF");
        var host = app.Value.BaseUri.Host;
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT OR IGNORE INTO OutboundMessages
                (Kind, Priority, Status, NewsletterId, CampaignId, SubscriberId, ToAddress, Language, MessageId, Attempts, CreatedAtUtc, NextAttemptAtUtc)
            SELECT {(int)MessageKind.Campaign}, {Outbox.BulkPriority}, {(int)MessageStatus.Queued}, s.NewsletterId, {campaignId}, s.Id, s.Email, s.Language,
                   lower(hex(randomblob(16))) || '@' || {host}, 0, {stamp}, {stamp}
            FROM Subscribers s
            WHERE s.NewsletterId = {campaign.NewsletterId} AND s.Status = {(int)SubscriberStatus.Confirmed}
            """, ct);
        campaign.RecipientCount = inserted;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        outbox.Wake();
        return inserted;
    }
}
