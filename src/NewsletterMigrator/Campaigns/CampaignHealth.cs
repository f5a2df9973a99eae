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
/// Pauses a sending campaign whose complaint or hard-bounce rate reaches the configured limits (issue 16.3):
/// the events recorded against the campaign per mail of it our SMTP server accepted, once at least
/// <see cref="BouncesOptions.RateMinimumAccepted"/> were accepted. Called after a complaint or hard bounce is recorded
/// against the campaign. The pause is the campaign's ordinary one (report page, dashboard, resume).
/// </summary>
public sealed class CampaignHealth(AppDbContext db, IOptions<BouncesOptions> options, TimeProvider clock,
    IStringLocalizer<SharedResource> text, ILogger<CampaignHealth> logger)
{
    /// <summary>The audit trail's actor for the self-pause.</summary>
    public const string Actor = "deliverability";

    public async Task CheckAsync(int campaignId, CancellationToken ct = default)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId)
            .Select(c => new { c.NewsletterId, c.Status, c.ResumedAtUtc }).SingleOrDefaultAsync(ct);
        if (campaign is not { Status: CampaignStatus.Sending }) return;

        // After a resume only what happened since counts: events after it against mails accepted after it, with the
        // minimum counted afresh. The editor who resumed saw the figures that paused the campaign (the report shows
        // them) and chose to go on; weighing those events again would pause it at the next bounce, and the editor
        // could never finish the send. New trouble at the same rates still pauses it once enough new mail went out.
        // A bounce arriving late for a mail sent before the resume counts as new: it is news the editor has not seen.
        var since = campaign.ResumedAtUtc ?? DateTime.MinValue;
        var limits = options.Value;
        var accepted = await db.OutboundMessages.CountAsync(m => m.CampaignId == campaignId && m.Kind == MessageKind.Campaign
            && m.Status == MessageStatus.Sent && m.SentAtUtc >= since, ct);
        if (accepted < limits.RateMinimumAccepted) return;
        var events = await db.DeliveryEvents
            .Where(e => e.CampaignId == campaignId && e.AtUtc >= since && (e.Kind == DeliveryEventKind.Complaint || e.Kind == DeliveryEventKind.HardBounce))
            .GroupBy(e => e.Kind).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        var complaints = events.Where(e => e.Key == DeliveryEventKind.Complaint).Sum(e => e.Count);
        var hardBounces = events.Where(e => e.Key == DeliveryEventKind.HardBounce).Sum(e => e.Count);
        var complaintPercent = NewsletterReputation.Percent(complaints, accepted)!.Value;
        var hardBouncePercent = NewsletterReputation.Percent(hardBounces, accepted)!.Value;
        // "At the limit" pauses: Google's 0.3 % is a rate never to reach, not one to exceed.
        var tooManyComplaints = complaintPercent >= limits.PauseAtComplaintPercent;
        var tooManyHardBounces = hardBouncePercent >= limits.PauseAtHardBouncePercent;
        if (!tooManyComplaints && !tooManyHardBounces) return;

        var language = await db.Newsletters.Where(n => n.Id == campaign.NewsletterId).Select(n => n.DefaultLanguage).SingleAsync(ct);
        var reason = Reason(language, accepted, complaints, complaintPercent, hardBounces, hardBouncePercent, tooManyComplaints, tooManyHardBounces, limits);
        var now = clock.GetUtcNow().UtcDateTime;

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Only the campaign as it was read: still sending and not resumed meanwhile (then the editor has seen newer
        // figures than these). Two checks at once for the same campaign: the second finds it paused and changes
        // nothing, so it is paused and audited once.
        var paused = await db.Campaigns.Of(campaign.NewsletterId, campaignId)
            .Where(c => c.Status == CampaignStatus.Sending && c.ResumedAtUtc == campaign.ResumedAtUtc)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Paused).SetProperty(c => c.PauseReason, reason), ct);
        if (paused == 0) return;
        var i = CultureInfo.InvariantCulture;
        db.Audit(Actor, "pause", $"campaign {campaignId}: {accepted} accepted, {complaints} complaints ({Format(complaintPercent, i)} %), "
            + $"{hardBounces} hard bounces ({Format(hardBouncePercent, i)} %); limits {Format(limits.PauseAtComplaintPercent, i)} % and {Format(limits.PauseAtHardBouncePercent, i)} %", now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogWarning("Campaign {CampaignId} paused itself: {Complaints} complaints, {HardBounces} hard bounces in {Accepted} accepted mails",
            campaignId, complaints, hardBounces, accepted);
    }

    /// <summary>The reason in words, in the newsletter's language (one stored text for all who look at the campaign).</summary>
    private string Reason(string language, int accepted, int complaints, decimal complaintPercent, int hardBounces, decimal hardBouncePercent,
        bool tooManyComplaints, bool tooManyHardBounces, BouncesOptions limits)
    {
        using var culture = new CultureScope(language);
        var parts = new List<string> { text["CampaignHealth_Prefix"] };
        if (tooManyComplaints)
            parts.Add(text["CampaignHealth_Complaints", complaints, accepted, Format(complaintPercent), Format(limits.PauseAtComplaintPercent)]);
        if (tooManyHardBounces)
            parts.Add(text["CampaignHealth_HardBounces", hardBounces, accepted, Format(hardBouncePercent), Format(limits.PauseAtHardBouncePercent)]);
        parts.Add(text["CampaignHealth_ResumeHint"]);
        var reason = string.Join(" ", parts);
        return reason.Length > 1000 ? reason[..1000] : reason;
    }

    /// <summary>
    /// Two decimals at most, in the current culture unless told (0,25 in German); cut, not rounded, so that 0.2996 %
    /// does not read as the 0.3 % limit it has not reached.
    /// </summary>
    public static string Format(decimal percent, IFormatProvider? culture = null) =>
        Math.Round(percent, 2, MidpointRounding.ToZero).ToString("0.##", culture ?? CultureInfo.CurrentCulture);
}
