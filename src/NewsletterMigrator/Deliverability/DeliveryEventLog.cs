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

    /// <summary>
    /// Adds the event for the mail <paramref name="row"/> (saved with the caller's next save), unless the mail already has
    /// it: one hard bounce, complaint or sender refusal per mail, one soft bounce per mail and Berlin day. A relay and the
    /// final server both bouncing, a feedback loop reporting twice, or a reader writing report after report to the return
    /// path of their own mail must not count more than the one mail did. Null when the event was already there.
    /// </summary>
    public async Task<DeliveryEvent?> TryAddAsync(DeliveryEventKind kind, OutboundMessage row, string? statusCode, string source, DateTime at, CancellationToken ct)
    {
        // Through the (address hash, kind, time) index: events have no index by mail, and a mail has only its own address.
        var hash = EmailHash(row);
        var earlier = await db.DeliveryEvents.Where(e => e.EmailHash == hash && e.Kind == kind && e.OutboundMessageId == row.Id)
            .Select(e => e.AtUtc).ToListAsync(ct);
        // Added in this unit of work but not saved yet.
        earlier.AddRange(db.DeliveryEvents.Local.Where(e => e.OutboundMessageId == row.Id && e.Kind == kind && e.Id == 0).Select(e => e.AtUtc));
        var day = BerlinDay(at);
        if (kind == DeliveryEventKind.SoftBounce ? earlier.Any(t => BerlinDay(t) == day) : earlier.Count > 0) return null;
        return Add(kind, row, statusCode, source, at);
    }

    private DeliveryEvent Add(DeliveryEventKind kind, OutboundMessage row, string? statusCode, string source, DateTime at)
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
        return times.Select(BerlinDay).ToHashSet();
    }

    private static DateOnly BerlinDay(DateTime utc) => DateOnly.FromDateTime(Berlin.ToLocal(utc));

    /// <summary>How many different mails of the campaign a mailbox reported as refusing our sender (saved events only).</summary>
    public Task<int> MailboxSenderRefusalsAsync(int campaignId, CancellationToken ct) =>
        db.DeliveryEvents.Where(e => e.CampaignId == campaignId && e.Kind == DeliveryEventKind.SenderRefusal && e.Source == Mailbox)
            .Select(e => e.OutboundMessageId).Distinct().CountAsync(ct);
}
