using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// The one writer of <see cref="DeliveryEvent"/> rows, for both paths (refused at RCPT TO, reported by mail), so the
/// reports count them alike. The address is kept only as its keyed hash (C26).
/// </summary>
public sealed class DeliveryEventLog(AppDbContext db, KeyRing keys)
{
    public const string Smtp = "smtp";
    public const string Mailbox = "mailbox";

    /// <summary>Adds the event for the mail <paramref name="row"/> (saved with the caller's next save).</summary>
    public DeliveryEvent Add(DeliveryEventKind kind, OutboundMessage row, string? statusCode, string source, DateTime at)
    {
        var record = new DeliveryEvent
        {
            Kind = kind,
            AtUtc = at,
            NewsletterId = row.NewsletterId,
            // A test mail carries its campaign's id but is no part of the campaign's report.
            CampaignId = row.Kind == MessageKind.Campaign ? row.CampaignId : null,
            OutboundMessageId = row.Id,
            EmailHash = EmailHash(row),
            StatusCode = statusCode is { Length: > 16 } ? statusCode[..16] : statusCode,
            Source = source,
        };
        db.DeliveryEvents.Add(record);
        return record;
    }

    public byte[] EmailHash(OutboundMessage row) => SuppressionHash.Email(keys, EmailAddress.Key(row.ToAddress));

    /// <summary>The separate Berlin days on which the address soft-bounced since <paramref name="sinceUtc"/>, saved events only.</summary>
    public async Task<HashSet<DateOnly>> SoftBounceDaysAsync(byte[] emailHash, DateTime sinceUtc, CancellationToken ct)
    {
        var times = await db.DeliveryEvents
            .Where(e => e.EmailHash == emailHash && e.Kind == DeliveryEventKind.SoftBounce && e.AtUtc > sinceUtc)
            .Select(e => e.AtUtc).ToListAsync(ct);
        return times.Select(t => DateOnly.FromDateTime(Berlin.ToLocal(t))).ToHashSet();
    }
}
