using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// A newsletter's standing with the mailbox providers over the last <see cref="WindowDays"/> days (issue 16.3): its
/// complaint rate (per mail our SMTP server accepted for the newsletter, of every kind: a complaint about a
/// confirmation mail hurts the sender as much) and hard-bounce rate (per mail sent: accepted, or refused at RCPT TO,
/// which is in the numerator too) beside the thresholds the providers publish.
/// Counts only (C26).
/// </summary>
public sealed class NewsletterReputation(AppDbContext db, TimeProvider clock)
{
    public const int WindowDays = 30;

    // The thresholds, in percent.
    // Complaints (the "spam rate" as the providers measure it): Google's Email sender guidelines (support.google.com/
    // a/answer/81126, in force for bulk senders since February 2024) ask to keep it below 0.1 % and never to reach 0.3 %
    // or more (senders at or above it lose eligibility for Google's mitigation of delivery problems); Yahoo's Sender
    // Best Practices (senders.yahooinc.com/best-practices, February 2024) ask for below 0.3 % and publish no 0.1 %.
    // Hard bounces: no provider publishes a figure; below 2 % is the common guidance of the sending services and
    // deliverability guides, which the page says in so many words.
    public const decimal ComplaintTargetPercent = 0.1m;
    public const decimal ComplaintLimitPercent = 0.3m;
    public const decimal HardBounceGuidancePercent = 2m;

    /// <param name="Attempted">Mails sent: those accepted and those refused at RCPT TO; the hard-bounce rate's denominator.</param>
    /// <param name="HardBouncePercent">Null while no mail was sent in the window (no rate to speak of).</param>
    public sealed record Figures(int Accepted, int Attempted, int HardBounces, int SoftBounces, int Complaints, int SenderRefusals,
        decimal? HardBouncePercent, decimal? ComplaintPercent)
    {
        /// <summary>At or above 0.3 %: Google's limit never to reach, Yahoo's to stay below.</summary>
        public bool ComplaintsAtLimit => ComplaintPercent >= ComplaintLimitPercent;
        /// <summary>Above the 0.1 % Google asks to stay below, still under the limit.</summary>
        public bool ComplaintsAboveTarget => ComplaintPercent >= ComplaintTargetPercent && !ComplaintsAtLimit;
        public bool HardBouncesAboveGuidance => HardBouncePercent >= HardBounceGuidancePercent;
    }

    public async Task<Figures> ForAsync(int newsletterId, CancellationToken ct = default)
    {
        var since = clock.GetUtcNow().UtcDateTime.AddDays(-WindowDays);
        // Counted from the (NewsletterId, Status, SentAtUtc) index alone: ranging the SentAtUtc index over every
        // newsletter and looking up each row took 1.2 to 1.5 s at 300,000 mails in the window, on every view of the list.
        var accepted = await db.OutboundMessages
            .CountAsync(m => m.NewsletterId == newsletterId && m.Status == MessageStatus.Sent && m.SentAtUtc >= since, ct);
        var events = await DeliveryEventTally.CountAsync(db.DeliveryEvents.Where(e => e.NewsletterId == newsletterId && e.AtUtc >= since), ct);
        // A refusal at RCPT TO is recorded when the mail was sent, so its event's date is the send's.
        var attempted = accepted + events.RefusedAtRcpt;
        return new Figures(accepted, attempted, events.HardBounces, events.SoftBounces, events.Complaints, events.SenderRefusals,
            Percent(events.HardBounces, attempted), Percent(events.Complaints, accepted));
    }

    /// <summary>Decimal, so that 3 complaints in 1,000 mails is exactly the 0.3 % limit, not a hair under it.</summary>
    public static decimal? Percent(int events, int accepted) => accepted == 0 ? null : events * 100m / accepted;
}
