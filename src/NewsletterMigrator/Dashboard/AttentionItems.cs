using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Dashboard;

/// <param name="Reason">The worker's or the editor's words (SMTP replies in it are redacted).</param>
public sealed record PausedCampaign(int Id, int NewsletterId, string NewsletterName, string Subject, string? Reason);

/// <param name="Retrying">Mails waiting for another try after a temporary refusal or a lost connection.</param>
/// <param name="FailedRecently">Mails given up within the failure window, not counting refused recipients (bounces are the reader's, not the server's).</param>
/// <param name="LastReply">The server's last answer to one of them (redacted); admins only.</param>
/// <param name="UrgentWaitingSinceUtc">The oldest sign-up, test or link mail due longer than it should ever wait: nothing is sending.</param>
public sealed record MailTrouble(int Retrying, int FailedRecently, string? LastReply, DateTime? UrgentWaitingSinceUtc);

/// <param name="Overdue">Older than Dashboard:BackupWarnAfter.</param>
public sealed record BackupAge(DateTime LastUtc, TimeSpan Age, bool Overdue);

/// <param name="Mailbox">The unsubscribe mailbox (C44): read by the app when <paramref name="Read"/>, else staff must read it.</param>
/// <param name="LastRecordedUtc">When staff last recorded a withdrawal that reached them by mail, phone or letter.</param>
/// <param name="Read">The bounce mailbox reader is on (Bounces:Imap:Host): unsubscribe mails with a token are carried out, the rest wait for a person.</param>
public sealed record WithdrawalDuty(string? Mailbox, DateTime? LastRecordedUtc, bool Read = false);

/// <param name="Count">Refusals of our sender (5.7.x, 5.1.7, 5.1.8, DMARC failure reports) that reached the bounce mailbox in the last <see cref="AttentionItems.SenderProblemWindow"/>.</param>
/// <param name="LastStatusCode">The status code of the newest one.</param>
public sealed record SenderProblems(int Count, DateTime LastAtUtc, string? LastStatusCode);

/// <summary>A feed whose last polls failed (issue 19): shown with its last error and when it is tried next (after the back-off).</summary>
public sealed record FailingFeed(int Id, int NewsletterId, string NewsletterName, string Name, int Failures, string? LastError, DateTime NextTryUtc);

/// <summary>A feed's campaign waiting as a draft for an editor's approval (issue 19).</summary>
public sealed record WaitingFeedDraft(int Id, int NewsletterId, string NewsletterName, string Subject, DateTime CreatedAtUtc);

/// <summary>What the dashboard asks staff to act on. Each part is null (or empty) when there is nothing to do.</summary>
/// <param name="Mailbox">The bounce mailbox, when it is read; null while Bounces:Imap:Host is empty.</param>
public sealed record Attention(
    IReadOnlyList<PausedCampaign> PausedCampaigns, MailTrouble? Mail, BackupAge? Backup, WithdrawalDuty Withdrawals,
    MailboxStatusView? Mailbox = null, SenderProblems? SenderProblems = null,
    IReadOnlyList<FailingFeed>? FailingFeeds = null, IReadOnlyList<WaitingFeedDraft>? FeedDrafts = null)
{
    public bool Any => PausedCampaigns.Count > 0 || FailingFeeds is { Count: > 0 } || FeedDrafts is { Count: > 0 } || Mail is not null || Backup is { Overdue: true } || SenderProblems is not null
                       || Mailbox is { Failing: true } || Mailbox is { NeedsAttentionCount: > 0 } || Mailbox is { Unprocessed: not null };
}

/// <summary>
/// The dashboard's "needs your attention" block, read from the database only, so every instance shows the same:
/// paused campaigns with their reason, mail the SMTP server keeps refusing or that waits too long, the age of the last
/// backup, the bounce mailbox (unreachable, or mails left there for a person, C44), refusals of our sender the mailboxes
/// reported (C37), and the withdrawals nothing in the app reads. The migration end and a paused WhatsApp queue have their own
/// banners on the dashboard. Editors get what concerns their newsletters, without the SMTP reply (it may quote an
/// address) and without the backup, which only an operator can run.
/// </summary>
public sealed class AttentionItems(
    AppDbContext db, TimeProvider clock, IOptions<DashboardOptions> options, IOptions<SendingOptions> sending, MailboxStatus mailboxStatus)
{
    /// <summary>How far back refusals of our sender are shown: a week covers a weekend nobody looked.</summary>
    public static readonly TimeSpan SenderProblemWindow = TimeSpan.FromDays(7);

    /// <param name="newsletterIds">The newsletters the user works on; null for an admin, who sees all.</param>
    public async Task<Attention> ForAsync(bool admin, IReadOnlyCollection<int>? newsletterIds, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var paused = await PausedCampaignsAsync(newsletterIds, ct);
        var mail = await MailTroubleAsync(admin, newsletterIds, now, ct);
        var backup = admin ? await BackupAgeAsync(now, ct) : null;
        var lastWithdrawal = await db.AuditEntries.Where(a => a.Action == "withdrawal").MaxAsync(a => (DateTime?)a.AtUtc, ct);
        var mailbox = string.IsNullOrWhiteSpace(sending.Value.UnsubscribeMailbox) ? null : sending.Value.UnsubscribeMailbox.Trim();
        var status = await mailboxStatus.GetAsync(ct);
        var senderProblems = await SenderProblemsAsync(newsletterIds, now, ct);
        return new Attention(paused, mail, backup, new WithdrawalDuty(mailbox, lastWithdrawal, status.Enabled),
            status.Enabled ? status : null, senderProblems, await FailingFeedsAsync(newsletterIds, ct), await FeedDraftsAsync(newsletterIds, ct));
    }

    /// <summary>Feeds that failed their last polls; a single failure is shown too, since breaking news that is not fetched is late news.</summary>
    private async Task<List<FailingFeed>> FailingFeedsAsync(IReadOnlyCollection<int>? newsletterIds, CancellationToken ct)
    {
        var feeds = db.Feeds.Where(f => f.Enabled && f.ConsecutiveFailures > 0);
        if (newsletterIds is not null) feeds = feeds.Where(f => newsletterIds.Contains(f.NewsletterId));
        var rows = await (from f in feeds
                          join n in db.Newsletters on f.NewsletterId equals n.Id
                          orderby f.Id
                          select new { f, n.Name }).ToListAsync(ct);
        return rows.Select(r => new FailingFeed(r.f.Id, r.f.NewsletterId, r.Name, r.f.Title ?? Feeds.FeedDisplay.UrlForDisplay(r.f),
            r.f.ConsecutiveFailures, r.f.LastError, r.f.NextPollAtUtc)).ToList();
    }

    private async Task<List<WaitingFeedDraft>> FeedDraftsAsync(IReadOnlyCollection<int>? newsletterIds, CancellationToken ct)
    {
        var drafts = db.Campaigns.Where(c => c.FeedId != null && c.Status == CampaignStatus.Draft);
        if (newsletterIds is not null) drafts = drafts.Where(c => newsletterIds.Contains(c.NewsletterId));
        return await (from c in drafts
                      join n in db.Newsletters on c.NewsletterId equals n.Id
                      orderby c.Id descending
                      select new WaitingFeedDraft(c.Id, c.NewsletterId, n.Name, c.Subject, c.CreatedAtUtc)).Take(20).ToListAsync(ct);
    }

    private async Task<SenderProblems?> SenderProblemsAsync(IReadOnlyCollection<int>? newsletterIds, DateTime now, CancellationToken ct)
    {
        var since = now - SenderProblemWindow;
        // Only what the mailboxes reported later: a refusal by our own SMTP server pauses its campaign and shows as that, or
        // as mail that failed, above. A report may concern a sign-up mail, which has no campaign to pause.
        var events = db.DeliveryEvents.Where(e => e.Kind == DeliveryEventKind.SenderRefusal && e.Source == DeliveryEventLog.Mailbox && e.AtUtc >= since);
        if (newsletterIds is not null) events = events.Where(e => newsletterIds.Contains(e.NewsletterId));
        var count = await events.CountAsync(ct);
        if (count == 0) return null;
        var last = await events.OrderByDescending(e => e.AtUtc).Select(e => new { e.AtUtc, e.StatusCode }).FirstAsync(ct);
        return new SenderProblems(count, last.AtUtc, last.StatusCode);
    }

    private async Task<List<PausedCampaign>> PausedCampaignsAsync(IReadOnlyCollection<int>? newsletterIds, CancellationToken ct)
    {
        var campaigns = db.Campaigns.Where(c => c.Status == CampaignStatus.Paused);
        if (newsletterIds is not null) campaigns = campaigns.Where(c => newsletterIds.Contains(c.NewsletterId));
        return await (from c in campaigns
                      join n in db.Newsletters on c.NewsletterId equals n.Id
                      orderby c.Id
                      select new PausedCampaign(c.Id, c.NewsletterId, n.Name, c.Subject, c.PauseReason)).ToListAsync(ct);
    }

    private async Task<MailTrouble?> MailTroubleAsync(bool admin, IReadOnlyCollection<int>? newsletterIds, DateTime now, CancellationToken ct)
    {
        var rows = db.OutboundMessages.AsQueryable();
        if (newsletterIds is not null) rows = rows.Where(m => newsletterIds.Contains(m.NewsletterId));
        // A row deferred after a temporary failure waits for its next attempt in the future; a fresh row is due at once.
        var retrying = rows.Where(m => m.Status == MessageStatus.Queued && m.NextAttemptAtUtc > now && m.Attempts > 0 && m.LastReply != null);
        // A failed row's due time is when it failed (DeliveryWorker sets it so; it is never due again).
        var since = now - options.Value.MailFailureWindow;
        var failed = rows.Where(m => m.Status == MessageStatus.Failed && m.NextAttemptAtUtc >= since
                                     && !db.Subscribers.Any(s => s.Id == m.SubscriberId && s.Status == SubscriberStatus.Bounced));
        var retryingCount = await retrying.CountAsync(ct);
        var failedCount = await failed.CountAsync(ct);
        // Sign-up, test and link mails go before any campaign row: one due for this long means nothing sends at all.
        var urgentCutoff = now - options.Value.MailWaitingWarnAfter;
        var urgentSince = await rows.Where(m => m.Status == MessageStatus.Queued && m.Priority == Outbox.UrgentPriority && m.NextAttemptAtUtc <= urgentCutoff)
            .MinAsync(m => (DateTime?)m.NextAttemptAtUtc, ct);
        if (retryingCount == 0 && failedCount == 0 && urgentSince is null) return null;

        string? lastReply = null;
        if (admin)
        {
            lastReply = await retrying.OrderByDescending(m => m.NextAttemptAtUtc).Select(m => m.LastReply).FirstOrDefaultAsync(ct)
                        ?? await failed.OrderByDescending(m => m.NextAttemptAtUtc).Select(m => m.LastReply).FirstOrDefaultAsync(ct);
        }
        return new MailTrouble(retryingCount, failedCount, lastReply, urgentSince);
    }

    private async Task<BackupAge?> BackupAgeAsync(DateTime now, CancellationToken ct)
    {
        var last = await db.BackupRuns.MaxAsync(r => (DateTime?)r.FinishedAtUtc, ct);
        if (last is null) return null;
        var age = now - last.Value;
        return new BackupAge(last.Value, age, age > options.Value.BackupWarnAfter);
    }
}
