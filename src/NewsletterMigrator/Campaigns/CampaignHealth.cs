using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Campaigns;

/// <summary>
/// Pauses a sending campaign whose complaint or hard-bounce rate reaches the configured limits (issue 16.3), once at
/// least <see cref="BouncesOptions.RateMinimumAccepted"/> of its mails were accepted. Complaints are counted per mail our
/// SMTP server accepted; hard bounces per mail sent (accepted, or refused at RCPT TO: a refused one is in the
/// numerator, so it belongs in the denominator too). Called after a complaint or hard bounce is recorded against the
/// campaign: by the mailbox reader inside its transaction (the check joins it), by the delivery once per flush after
/// its commit. The pause is the campaign's ordinary one (<see cref="CampaignPauses"/>; report page, dashboard, resume).
/// </summary>
public sealed class CampaignHealth(AppDbContext db, CampaignPauses pauses, IOptions<BouncesOptions> options,
    IStringLocalizer<SharedResource> text, ILogger<CampaignHealth> logger)
{
    /// <summary>The audit trail's actor for the self-pause, and its <see cref="Campaign.PausedBy"/>.</summary>
    public const string Actor = "deliverability";

    public async Task CheckAsync(int campaignId, CancellationToken ct = default)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId)
            .Select(c => new { c.NewsletterId, c.Status, c.ResumedAtUtc }).SingleOrDefaultAsync(ct);
        if (campaign is not { Status: CampaignStatus.Sending }) return;

        // After a resume from the self-pause only mails sent since count, and the events about them; the minimum is
        // counted afresh. The editor who resumed saw the figures that paused the campaign (the report shows them) and
        // chose to go on; weighing those events again would pause it at the next bounce, and the editor could never
        // finish the send. A late complaint or bounce about a mail sent before the resume belongs to the figures the
        // editor acknowledged: counted against only the mails since, a handful of them would pause it again at once.
        // New trouble at the same rates still pauses it once enough new mail went out.
        var since = campaign.ResumedAtUtc;
        var limits = options.Value;
        var accepted = await db.OutboundMessages.CountAsync(m => m.CampaignId == campaignId && m.Kind == MessageKind.Campaign
            && m.Status == MessageStatus.Sent && (since == null || m.SentAtUtc >= since), ct);
        if (accepted < limits.RateMinimumAccepted) return;
        var events = db.DeliveryEvents.Where(e => e.CampaignId == campaignId
            && (e.Kind == DeliveryEventKind.Complaint || e.Kind == DeliveryEventKind.HardBounce));
        if (since is not null)
        {
            // A refusal at RCPT TO is dated when the mail was sent (the row has no SentAtUtc); a report by mail is about
            // the mail it names.
            events = events.Where(e => e.AtUtc >= since && (e.Source == DeliveryEventLog.Smtp
                || db.OutboundMessages.Any(m => m.Id == e.OutboundMessageId && m.SentAtUtc >= since)));
        }
        var tally = await DeliveryEventTally.CountAsync(events, ct);
        var (complaints, hardBounces) = (tally.Complaints, tally.HardBounces);
        var sent = accepted + tally.RefusedAtRcpt;
        var complaintPercent = NewsletterReputation.Percent(complaints, accepted)!.Value;
        var hardBouncePercent = NewsletterReputation.Percent(hardBounces, sent)!.Value;
        // "At the limit" pauses: Google's 0.3 % is a rate never to reach, not one to exceed.
        var tooManyComplaints = complaintPercent >= limits.PauseAtComplaintPercent;
        var tooManyHardBounces = hardBouncePercent >= limits.PauseAtHardBouncePercent;
        if (!tooManyComplaints && !tooManyHardBounces) return;

        var language = await db.Newsletters.Where(n => n.Id == campaign.NewsletterId).Select(n => n.DefaultLanguage).SingleAsync(ct);
        var reason = Reason(language, accepted, sent, complaints, complaintPercent, hardBounces, hardBouncePercent, tooManyComplaints, tooManyHardBounces, limits);
        var i = CultureInfo.InvariantCulture;
        var details = $"{accepted} accepted, {sent} sent, {complaints} complaints ({Format(complaintPercent, i)} %), "
            + $"{hardBounces} hard bounces ({Format(hardBouncePercent, i)} %); limits {Format(limits.PauseAtComplaintPercent, i)} % and {Format(limits.PauseAtHardBouncePercent, i)} %";
        // Only the campaign as it was read: still sending and not resumed meanwhile (then the editor has seen newer
        // figures than these). Two checks at once for the same campaign: the second finds it paused and changes
        // nothing, so it is paused and audited once.
        var resumedAt = campaign.ResumedAtUtc;
        if (!await pauses.PauseAsync(campaignId, reason, Actor, details, c => c.ResumedAtUtc == resumedAt, ct)) return;
        logger.LogWarning("Campaign {CampaignId} paused itself: {Complaints} complaints in {Accepted} accepted mails, {HardBounces} hard bounces in {Sent} sent",
            campaignId, complaints, accepted, hardBounces, sent);
    }

    /// <summary>The reason in words, in the newsletter's language (one stored text for all who look at the campaign).</summary>
    private string Reason(string language, int accepted, int sent, int complaints, decimal complaintPercent, int hardBounces, decimal hardBouncePercent,
        bool tooManyComplaints, bool tooManyHardBounces, BouncesOptions limits)
    {
        using var culture = new CultureScope(language);
        var parts = new List<string> { text["CampaignHealth_Prefix"] };
        if (tooManyComplaints)
            parts.Add(text["CampaignHealth_Complaints", complaints, accepted, Format(complaintPercent), Format(limits.PauseAtComplaintPercent)]);
        if (tooManyHardBounces)
            parts.Add(text["CampaignHealth_HardBounces", hardBounces, sent, Format(hardBouncePercent), Format(limits.PauseAtHardBouncePercent)]);
        parts.Add(text["CampaignHealth_ResumeHint"]);
        return string.Join(" ", parts);
    }

    /// <summary>
    /// Two decimals at most, in the current culture unless told (0,25 in German); cut, not rounded, so that 0.2996 %
    /// does not read as the 0.3 % limit it has not reached.
    /// </summary>
    public static string Format(decimal percent, IFormatProvider? culture = null) =>
        Math.Round(percent, 2, MidpointRounding.ToZero).ToString("0.##", culture ?? CultureInfo.CurrentCulture);
}
