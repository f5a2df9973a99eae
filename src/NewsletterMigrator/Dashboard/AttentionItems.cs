using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
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

/// <param name="Mailbox">The unsubscribe mailbox; the app does not read it, so staff must (C44).</param>
/// <param name="LastRecordedUtc">When staff last recorded a withdrawal that reached them by mail, phone or letter.</param>
public sealed record WithdrawalDuty(string? Mailbox, DateTime? LastRecordedUtc);

/// <summary>What the dashboard asks staff to act on. Each part is null (or empty) when there is nothing to do.</summary>
public sealed record Attention(IReadOnlyList<PausedCampaign> PausedCampaigns, MailTrouble? Mail, BackupAge? Backup, WithdrawalDuty Withdrawals)
{
    public bool Any => PausedCampaigns.Count > 0 || Mail is not null || Backup is { Overdue: true };
}

/// <summary>
/// The dashboard's "needs your attention" block, read from the database only, so every instance shows the same:
/// paused campaigns with their reason, mail the SMTP server keeps refusing or that waits too long, the age of the last
/// backup, and the withdrawals nothing in the app reads. The migration end and a paused WhatsApp queue have their own
/// banners on the dashboard. Editors get what concerns their newsletters, without the SMTP reply (it may quote an
/// address) and without the backup, which only an operator can run.
/// </summary>
public sealed class AttentionItems(AppDbContext db, TimeProvider clock, IOptions<DashboardOptions> options, IOptions<SendingOptions> sending)
{
    /// <param name="newsletterIds">The newsletters the user works on; null for an admin, who sees all.</param>
    public async Task<Attention> ForAsync(bool admin, IReadOnlyCollection<int>? newsletterIds, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var paused = await PausedCampaignsAsync(newsletterIds, ct);
        var mail = await MailTroubleAsync(admin, newsletterIds, now, ct);
        var backup = admin ? await BackupAgeAsync(now, ct) : null;
        var lastWithdrawal = await db.AuditEntries.Where(a => a.Action == "withdrawal").MaxAsync(a => (DateTime?)a.AtUtc, ct);
        var mailbox = string.IsNullOrWhiteSpace(sending.Value.UnsubscribeMailbox) ? null : sending.Value.UnsubscribeMailbox.Trim();
        return new Attention(paused, mail, backup, new WithdrawalDuty(mailbox, lastWithdrawal));
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
