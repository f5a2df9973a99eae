using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// A newsletter's standing with the mailbox providers over the last <see cref="WindowDays"/> days (issue 16.3): its
/// hard-bounce and complaint rates (events per mail our SMTP server accepted for the newsletter, of every kind:
/// a complaint about a confirmation mail hurts the sender as much) beside the thresholds the providers publish.
/// Counts only (C26).
/// </summary>
public sealed class NewsletterReputation(AppDbContext db, TimeProvider clock)
{
    public const int WindowDays = 30;

    // The thresholds, in percent.
    // Complaints (the "spam rate" as the providers measure it): Google's Email sender guidelines (support.google.com/
    // a/answer/81126, in force for bulk senders since February 2024) ask to keep it below 0.1 % and never to reach 0.3 %
    // or more; Yahoo's Sender Best Practices (senders.yahooinc.com/best-practices, February 2024) name the same 0.3 %.
    // Hard bounces: no provider publishes a figure; below 2 % is the common guidance of the sending services and
    // deliverability guides, which the page says in so many words.
    public const decimal ComplaintTargetPercent = 0.1m;
    public const decimal ComplaintLimitPercent = 0.3m;
    public const decimal HardBounceGuidancePercent = 2m;

    /// <param name="HardBouncePercent">Null while no mail was accepted in the window (no rate to speak of).</param>
    public sealed record Figures(int Accepted, int HardBounces, int SoftBounces, int Complaints, int SenderRefusals,
        decimal? HardBouncePercent, decimal? ComplaintPercent)
    {
        /// <summary>At or above 0.3 %: the rate Google and Yahoo tell senders never to reach.</summary>
        public bool ComplaintsAtLimit => ComplaintPercent >= ComplaintLimitPercent;
        /// <summary>Above the 0.1 % Google asks to stay below, still under the limit.</summary>
        public bool ComplaintsAboveTarget => ComplaintPercent >= ComplaintTargetPercent && !ComplaintsAtLimit;
        public bool HardBouncesAboveGuidance => HardBouncePercent >= HardBounceGuidancePercent;
    }

    public async Task<Figures> ForAsync(int newsletterId, CancellationToken ct = default)
    {
        var since = clock.GetUtcNow().UtcDateTime.AddDays(-WindowDays);
        // Range over the SentAtUtc index (the per-hour cap's), the newsletter checked on each row it finds.
        var accepted = await db.OutboundMessages
            .CountAsync(m => m.SentAtUtc >= since && m.NewsletterId == newsletterId && m.Status == MessageStatus.Sent, ct);
        var events = await db.DeliveryEvents.Where(e => e.NewsletterId == newsletterId && e.AtUtc >= since)
            .GroupBy(e => e.Kind).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        int Count(DeliveryEventKind kind) => events.Where(e => e.Key == kind).Sum(e => e.Count);

        var hard = Count(DeliveryEventKind.HardBounce);
        var complaints = Count(DeliveryEventKind.Complaint);
        return new Figures(accepted, hard, Count(DeliveryEventKind.SoftBounce), complaints, Count(DeliveryEventKind.SenderRefusal),
            Percent(hard, accepted), Percent(complaints, accepted));
    }

    /// <summary>Decimal, so that 3 complaints in 1,000 mails is exactly the 0.3 % limit, not a hair under it.</summary>
    public static decimal? Percent(int events, int accepted) => accepted == 0 ? null : events * 100m / accepted;
}
