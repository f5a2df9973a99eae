using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Campaigns;

/// <summary>
/// What became of a campaign's mails, per Berlin day for the first <see cref="Days"/> days from its start (issue 16.3):
/// accepted by our SMTP server, hard and soft bounces, complaints and the withdrawals attributed to the campaign.
/// Counts only (C26): nothing here names, hashes or points to a reader, so editors may see it.
/// </summary>
public sealed class CampaignDeliverability(AppDbContext db, TimeProvider clock)
{
    public const int Days = 14;

    public sealed record Counts(int Accepted, int HardBounces, int SoftBounces, int Complaints, int Unsubscribes)
    {
        public static readonly Counts None = new(0, 0, 0, 0, 0);

        public Counts Plus(Counts o) =>
            new(Accepted + o.Accepted, HardBounces + o.HardBounces, SoftBounces + o.SoftBounces, Complaints + o.Complaints, Unsubscribes + o.Unsubscribes);
    }

    public sealed record Day(DateOnly Date, Counts Counts);

    /// <param name="Days">From the Berlin day of the start up to today, at most <see cref="CampaignDeliverability.Days"/>.</param>
    /// <param name="Total">Everything, also what came later than the days shown (a late bounce, a campaign paused for weeks).</param>
    public sealed record Report(IReadOnlyList<Day> Days, Counts Total);

    /// <summary>The counts, an empty report for a campaign that has not started, or null when the newsletter has no such campaign.</summary>
    public async Task<Report?> ForAsync(int newsletterId, int campaignId, CancellationToken ct = default)
    {
        var campaign = await db.Campaigns.AsNoTracking().Of(newsletterId, campaignId).Select(c => new { c.StartedAtUtc }).SingleOrDefaultAsync(ct);
        if (campaign is null) return null;
        if (campaign.StartedAtUtc is not { } started) return new Report([], Counts.None);

        // Grouped in SQL by UTC hour, then each hour is given to its Berlin day here: Berlin is a whole number of hours
        // from UTC all year, and SQLite knows no time zones. At most one row per hour and kind comes back, however many
        // mails the campaign had; each query reads one index of the campaign's rows (see AppDbContext).
        var accepted = await db.OutboundMessages
            .Where(m => m.CampaignId == campaignId && m.Kind == MessageKind.Campaign && m.Status == MessageStatus.Sent && m.SentAtUtc != null)
            .GroupBy(m => new { m.SentAtUtc!.Value.Date, m.SentAtUtc!.Value.Hour })
            .Select(g => new { g.Key.Date, g.Key.Hour, Count = g.Count() }).ToListAsync(ct);
        var events = await db.DeliveryEvents.Where(e => e.CampaignId == campaignId)
            .GroupBy(e => new { e.Kind, e.AtUtc.Date, e.AtUtc.Hour })
            .Select(g => new { g.Key.Kind, g.Key.Date, g.Key.Hour, Count = g.Count() }).ToListAsync(ct);
        var withdrawals = await db.ConsentEvents.Where(c => c.CampaignId == campaignId && c.Kind == ConsentEventKind.Withdrawn)
            .GroupBy(c => new { c.OccurredAtUtc.Date, c.OccurredAtUtc.Hour })
            .Select(g => new { g.Key.Date, g.Key.Hour, Count = g.Count() }).ToListAsync(ct);

        var byDay = new Dictionary<DateOnly, Counts>();
        void Add(DateTime date, int hour, Counts counts)
        {
            var day = DateOnly.FromDateTime(Berlin.ToLocal(date.AddHours(hour)));
            byDay[day] = byDay.GetValueOrDefault(day, Counts.None).Plus(counts);
        }
        foreach (var a in accepted) Add(a.Date, a.Hour, Counts.None with { Accepted = a.Count });
        foreach (var e in events)
        {
            Add(e.Date, e.Hour, e.Kind switch
            {
                DeliveryEventKind.HardBounce => Counts.None with { HardBounces = e.Count },
                DeliveryEventKind.SoftBounce => Counts.None with { SoftBounces = e.Count },
                DeliveryEventKind.Complaint => Counts.None with { Complaints = e.Count },
                // A refusal of our sender is about our server, not this readers: the newsletter's page shows it.
                _ => Counts.None,
            });
        }
        foreach (var w in withdrawals) Add(w.Date, w.Hour, Counts.None with { Unsubscribes = w.Count });

        var first = DateOnly.FromDateTime(Berlin.ToLocal(started));
        var today = DateOnly.FromDateTime(Berlin.ToLocal(clock.GetUtcNow().UtcDateTime));
        var shown = Math.Clamp(today.DayNumber - first.DayNumber + 1, 1, Days);
        var days = Enumerable.Range(0, shown).Select(i => first.AddDays(i)).Select(d => new Day(d, byDay.GetValueOrDefault(d, Counts.None))).ToList();
        var total = byDay.Values.Aggregate(Counts.None, (sum, c) => sum.Plus(c));
        return new Report(days, total);
    }
}
