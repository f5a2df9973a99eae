using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Delivery events counted by kind, in one grouped query. <see cref="RefusedAtRcpt"/>: the hard bounces our SMTP server
/// got at RCPT TO; their mails were never accepted, so a rate per mail sent adds them to the accepted ones.
/// </summary>
public sealed record DeliveryEventTally(int HardBounces, int RefusedAtRcpt, int SoftBounces, int Complaints, int SenderRefusals)
{
    public static async Task<DeliveryEventTally> CountAsync(IQueryable<DeliveryEvent> events, CancellationToken ct)
    {
        var groups = await events.GroupBy(e => new { e.Kind, Refused = e.Source == DeliveryEventLog.Smtp })
            .Select(g => new { g.Key.Kind, g.Key.Refused, Count = g.Count() }).ToListAsync(ct);
        int Count(DeliveryEventKind kind, bool onlyRefused = false) =>
            groups.Where(g => g.Kind == kind && (!onlyRefused || g.Refused)).Sum(g => g.Count);
        return new DeliveryEventTally(Count(DeliveryEventKind.HardBounce), Count(DeliveryEventKind.HardBounce, onlyRefused: true),
            Count(DeliveryEventKind.SoftBounce), Count(DeliveryEventKind.Complaint), Count(DeliveryEventKind.SenderRefusal));
    }
}
