using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Deliverability;

/// <summary>What one report did: the kind to file it under (Unknown when it maps to no mail of ours), the mail it was about, and what was done in words that name no reader.</summary>
public sealed record ReportEffect(ReportKind Kind, long? OutboundMessageId, string Outcome);

/// <summary>
/// Carries out what a classified report means (issue 16.2, C37): a hard bounce ends the address, a soft one counts until
/// it has happened on enough separate days, a refusal of our sender pauses the campaign and never touches the reader, a
/// complaint ends every subscription of the address, a mail to the unsubscribe address unsubscribes at once (C12, C44).
/// Runs in the caller's transaction (the processor's, with its once-only record), else in its own.
/// </summary>
public sealed class ReportEffects(
    AppDbContext db,
    ReportTarget targets,
    DeliveryEventLog events,
    BounceMarks bounces,
    SuppressionList suppressions,
    UnsubscribeService unsubscribes,
    CampaignHealth health,
    CampaignPauses pauses,
    IOptions<BouncesOptions> options,
    TimeProvider clock,
    ILogger<ReportEffects> logger)
{
    /// <summary>
    /// How many different mails of a campaign must be reported refused for our sender, by mail, before the campaign
    /// pauses. A report by mail can be forged by anyone who got one of our mails (their own return path is in it), so one
    /// report must not stop a campaign for everybody; a real misconfiguration soon refuses many mails. A refusal by our
    /// own SMTP server while sending cannot be forged and still pauses at once (C37, the delivery worker).
    /// </summary>
    public const int MailboxSenderRefusalsToPause = 3;

    /// <param name="reportedAtUtc">When the report says it was written (its Date); the events are dated by it where it is plausible, so a backlog read late still counts on the right days.</param>
    public async Task<ReportEffect> ApplyAsync(ClassifiedReport report, DateTime? reportedAtUtc = null, CancellationToken ct = default)
    {
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var now = clock.GetUtcNow().UtcDateTime;
        var at = reportedAtUtc is { } reported && reported <= now && reported > now - options.Value.SoftBounceWindow ? reported : now;
        var effect = await ApplyCoreAsync(report, at, ct);
        await db.SaveChangesAsync(ct);
        if (transaction is not null) await transaction.CommitAsync(ct);
        return effect;
    }

    private async Task<ReportEffect> ApplyCoreAsync(ClassifiedReport report, DateTime at, CancellationToken ct)
    {
        switch (report.Kind)
        {
            case ReportKind.Unsubscribe:
                return await UnsubscribeAsync(report, ct);
            case ReportKind.AutoReply:
                return new ReportEffect(ReportKind.AutoReply, null, "auto-reply: ignored");
            case ReportKind.Unknown:
                return new ReportEffect(ReportKind.Unknown, null, "not recognised: left for a person");
        }

        var row = await targets.FindAsync(report, ct);
        if (row is null)
        {
            return report.Kind == ReportKind.Delayed
                ? new ReportEffect(ReportKind.Delayed, null, "delivery delayed, no mail of ours found: nothing changed")
                : new ReportEffect(ReportKind.Unknown, null,
                    $"{Describe(report.Kind)} for no mail of ours (no valid return-path token, no known Message-ID): nothing changed, left for a person");
        }
        if (report.Kind != ReportKind.Delayed && !NamesAddressOf(report.Recipient, row))
        {
            // A reader who forwards (without SRS) to a mailbox that bounces or complains: that is not the reader's address.
            return new ReportEffect(ReportKind.Unknown, row.Id,
                $"{Describe(report.Kind)} naming another recipient than the mail went to (forwarded?): nothing recorded, left for a person");
        }
        var code = report.StatusCode ?? "no status code";
        return report.Kind switch
        {
            ReportKind.HardBounce => await HardBounceAsync(row, code, report.StatusCode, at, ct),
            ReportKind.SoftBounce => await SoftBounceAsync(row, code, report.StatusCode, at, ct),
            ReportKind.SenderProblem => await SenderProblemAsync(row, code, report, at, ct),
            ReportKind.Complaint => await ComplaintAsync(row, report, at, ct),
            _ => new ReportEffect(ReportKind.Delayed, row.Id, $"{code}: delivery delayed: nothing changed"),
        };
    }

    private async Task<ReportEffect> HardBounceAsync(OutboundMessage row, string code, string? statusCode, DateTime at, CancellationToken ct)
    {
        if (await events.TryAddAsync(DeliveryEventKind.HardBounce, row, statusCode, DeliveryEventLog.Mailbox, at, ct) is null)
            return new ReportEffect(ReportKind.HardBounce, row.Id, $"{code}: hard bounce of this mail already recorded: nothing changed");
        var ended = await bounces.MarkAsync(row, code, at, ct);
        await CheckHealthAsync(row, ct);
        return new ReportEffect(ReportKind.HardBounce, row.Id, ended
            ? $"{code}: hard bounce; reader marked bounced, address suppressed"
            : $"{code}: hard bounce of a mail to staff ({row.Kind}); recorded, nothing suppressed");
    }

    /// <summary>A full mailbox or a passing fault (4.x, 5.2.2) suppresses nothing until it has happened on enough separate Berlin days.</summary>
    private async Task<ReportEffect> SoftBounceAsync(OutboundMessage row, string code, string? statusCode, DateTime at, CancellationToken ct)
    {
        var o = options.Value;
        var record = await events.TryAddAsync(DeliveryEventKind.SoftBounce, row, statusCode, DeliveryEventLog.Mailbox, at, ct);
        if (record is null)
            return new ReportEffect(ReportKind.SoftBounce, row.Id, $"{code}: soft bounce of this mail already counted for that day: nothing changed");
        var days = await events.SoftBounceDaysAsync(record.EmailHash!, clock.GetUtcNow().UtcDateTime - o.SoftBounceWindow, ct);
        days.Add(DateOnly.FromDateTime(Berlin.ToLocal(at)));
        if (days.Count < o.SoftBounceLimit || row.SubscriberId is null)
            return new ReportEffect(ReportKind.SoftBounce, row.Id, $"{code}: soft bounce on {days.Count} of {o.SoftBounceLimit} day(s) within {o.SoftBounceWindow.TotalDays:0} days; nothing suppressed");
        await bounces.MarkAsync(row, $"{code}, soft bounces on {days.Count} days", at, ct);
        await CheckHealthAsync(row, ct);
        return new ReportEffect(ReportKind.SoftBounce, row.Id,
            $"{code}: soft bounce on {days.Count} separate days within {o.SoftBounceWindow.TotalDays:0} days, treated as hard; reader marked bounced, address suppressed");
    }

    /// <summary>C37: our side was refused (5.7.x, 5.1.7/5.1.8, authentication); the reader is not to blame and is never suppressed.</summary>
    private async Task<ReportEffect> SenderProblemAsync(OutboundMessage row, string code, ClassifiedReport report, DateTime at, CancellationToken ct)
    {
        if (await events.TryAddAsync(DeliveryEventKind.SenderRefusal, row, report.StatusCode, DeliveryEventLog.Mailbox, at, ct) is null)
            return new ReportEffect(ReportKind.SenderProblem, row.Id, $"{code}: refusal of our sender for this mail already recorded: nothing changed");
        var paused = false;
        var refusedMails = row is { Kind: MessageKind.Campaign, CampaignId: { } refusedCampaign } ? await RefusedMailsAsync(refusedCampaign, ct) : 0;
        if (row is { Kind: MessageKind.Campaign, CampaignId: { } campaignId } && refusedMails >= MailboxSenderRefusalsToPause)
        {
            // As the delivery worker does for a refusal at MAIL FROM: the editor sees why, without any address (C20).
            var reason = Redact.Text($"sender refused (reported by mail): {code} {report.Diagnostic}".Trim());
            paused = await pauses.PauseAsync(campaignId, reason, DeliveryEventLog.Mailbox, ct: ct);
        }
        logger.LogWarning("A mailbox provider refused our sender ({StatusCode}) for outbox row {MessageRowId}; campaign paused: {Paused}", code, row.Id, paused);
        return new ReportEffect(ReportKind.SenderProblem, row.Id, paused
            ? $"{code}: our sender was refused; campaign paused, nothing suppressed"
            : refusedMails is > 0 and < MailboxSenderRefusalsToPause
                ? $"{code}: our sender was refused ({refusedMails} of {MailboxSenderRefusalsToPause} mails of the campaign needed to pause it); nothing suppressed"
                : $"{code}: our sender was refused; nothing suppressed");
    }

    private async Task<int> RefusedMailsAsync(int campaignId, CancellationToken ct)
    {
        await db.SaveChangesAsync(ct);
        return await events.MailboxSenderRefusalsAsync(campaignId, ct);
    }

    private async Task<ReportEffect> ComplaintAsync(OutboundMessage row, ClassifiedReport report, DateTime at, CancellationToken ct)
    {
        // Mailbox providers count a complaint about any of our mails, so the newsletter's rate does too.
        if (await events.TryAddAsync(DeliveryEventKind.Complaint, row, report.StatusCode, DeliveryEventLog.Mailbox, at, ct) is null)
            return new ReportEffect(ReportKind.Complaint, row.Id, "complaint about this mail already handled: nothing changed");
        if (row.SubscriberId is null)
        {
            // A test mail or a staff alert: whoever complained is staff, or someone a test mail went to; no reader to end.
            return new ReportEffect(ReportKind.Unknown, row.Id,
                $"complaint about a mail to staff ({row.Kind}): recorded, no subscription ended, left for a person");
        }
        var ended = await unsubscribes.WithdrawAddressAsync(EmailAddress.Key(row.ToAddress), WithdrawalChannel.Complaint, row, ct);
        await suppressions.AddAsync(SuppressionKind.Email, events.EmailHash(row), "complaint", at, ct);
        await CheckHealthAsync(row, ct);
        var type = string.IsNullOrWhiteSpace(report.FeedbackType) ? "abuse" : Redact.Text(report.FeedbackType.Trim());
        return new ReportEffect(ReportKind.Complaint, row.Id, $"complaint ({type}): {ended} subscription(s) ended, address suppressed");
    }

    /// <summary>C12, C44: the token decides, not the sender address; a token that is not a reader's unsubscribe token changes nothing.</summary>
    private async Task<ReportEffect> UnsubscribeAsync(ClassifiedReport report, CancellationToken ct)
    {
        var subscriber = string.IsNullOrWhiteSpace(report.UnsubscribeToken) ? null : await unsubscribes.FindAsync(report.UnsubscribeToken.Trim(), ct);
        if (subscriber is null)
            return new ReportEffect(ReportKind.Unknown, null, "unsubscribe mail without a valid token: nothing changed, left for a person");
        if (subscriber.Status == SubscriberStatus.Unsubscribed)
            return new ReportEffect(ReportKind.Unsubscribe, null, "unsubscribe by mail: already unsubscribed");
        await unsubscribes.WithdrawAsync(subscriber, WithdrawalChannel.Mailto, ct);
        return new ReportEffect(ReportKind.Unsubscribe, null, "unsubscribed by mail (mailto)");
    }

    /// <summary>The campaign's rates may now be above the limits; the check reads what this transaction wrote.</summary>
    private async Task CheckHealthAsync(OutboundMessage row, CancellationToken ct)
    {
        if (row is not { Kind: MessageKind.Campaign, CampaignId: { } campaignId }) return;
        await db.SaveChangesAsync(ct);
        await health.CheckAsync(campaignId, ct);
    }

    /// <summary>True when the report names no recipient (feedback loops often redact it) or the one the mail went to.</summary>
    private static bool NamesAddressOf(string? recipient, OutboundMessage row)
    {
        var named = recipient?.Trim().Trim('<', '>').Trim();
        return string.IsNullOrEmpty(named) || KeyOf(named) == KeyOf(row.ToAddress);

        static string KeyOf(string address) => EmailAddress.Key(EmailAddress.TryNormalize(address, out var normalized) ? normalized : address);
    }

    private static string Describe(ReportKind kind) => kind switch
    {
        ReportKind.HardBounce => "hard bounce",
        ReportKind.SoftBounce => "soft bounce",
        ReportKind.SenderProblem => "refusal of our sender",
        ReportKind.Complaint => "complaint",
        _ => kind.ToString(),
    };
}
