using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Subscribers;

/// <summary>
/// The one place that ends an address for good because its mailbox does not exist (C37): whether the server refused it
/// at RCPT TO or a bounce came back by mail later, the reader is marked bounced and the address suppressed the same way.
/// </summary>
public sealed class BounceMarks(AppDbContext db, KeyRing keys, SuppressionList suppressions)
{
    /// <summary>
    /// Marks every pending or confirmed subscription of the address the mail went to as bounced (the row's address, never
    /// one a report claims), in every newsletter, and suppresses the address: a dead mailbox is dead for all of them, and
    /// fan-out and delivery read the subscriber's status, not the suppression list. A mail to a requested new address
    /// bounces only that address: the reader keeps the current one. Mail to staff (test mails, alerts) has no reader and
    /// suppresses nothing. True when a reader's address was ended.
    /// </summary>
    public async Task<bool> MarkAsync(OutboundMessage row, string reason, DateTime now, CancellationToken ct = default)
    {
        if (row.SubscriberId is null) return false;
        var key = EmailAddress.Key(row.ToAddress);
        await (await db.SubscriptionsOfAddressAsync(key, ct))
            .Where(s => s.Status == SubscriberStatus.Confirmed || s.Status == SubscriberStatus.Pending)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriberStatus.Bounced), ct);
        await suppressions.AddAsync(SuppressionKind.Email, SuppressionHash.Email(keys, key), Truncate("hard bounce: " + reason), now, ct);
        return true;
    }

    private static string Truncate(string reason) => reason.Length > 500 ? reason[..500] : reason;
}
