using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Subscribers;

public enum InformalWithdrawalStatus { Recorded, InvalidValue, InvalidChannel }

/// <summary>What recording a withdrawal did, in the words an admin may see: counts and whether the number is now blocked.</summary>
public sealed record InformalWithdrawalResult(InformalWithdrawalStatus Status, bool ByNumber = false, int SubscriptionsEnded = 0, bool NumberNewlySuppressed = false);

/// <summary>
/// Withdrawals that reach staff by mail, phone or letter while the app reads no mailbox (C44, Art. 7(3), 21):
/// by address, every subscription of it ends through the ordinary unsubscribe (ledgered with the channel);
/// by number, the number objects (<see cref="PhoneObjections"/>) and the subscriptions that came from its
/// contacts end too. Audited with a redacted address or number.
/// </summary>
public sealed class InformalWithdrawals(AppDbContext db, UnsubscribeService unsubscribes, PhoneObjections objections, PhoneProtector phones, TimeProvider clock)
{
    public async Task<InformalWithdrawalResult> RecordAsync(string? value, string? channel, string staffUser, CancellationToken ct = default)
    {
        if (channel is null || !WithdrawalChannel.Informal.Contains(channel)) return new(InformalWithdrawalStatus.InvalidChannel);
        value = value?.Trim() ?? "";
        if (value.Contains('@'))
        {
            if (!EmailAddress.TryNormalize(value, out var email)) return new(InformalWithdrawalStatus.InvalidValue);
            var ended = await unsubscribes.WithdrawAddressAsync(EmailAddress.Key(email), channel, ct);
            db.Audit(staffUser, "withdrawal", $"address {Redact.Email(email)} via {channel}: {ended} subscriptions ended", clock.GetUtcNow().UtcDateTime);
            await db.SaveChangesAsync(ct);
            return new(InformalWithdrawalStatus.Recorded, SubscriptionsEnded: ended);
        }

        var region = await Newsletters.InstallationRegion.OfAsync(db, ct);
        var number = PhoneNormalizer.Normalize(value, region);
        if (!number.IsValid) return new(InformalWithdrawalStatus.InvalidValue);
        var hmac = SuppressionHash.Phone(phones, number.E164!);
        // One transaction: the subscriptions end, the number objects, the audit row says so, or none of it.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var newsletterIds = await db.Newsletters.Select(n => n.Id).ToListAsync(ct);
        var contactIds = await db.ContactPhones.Where(p => newsletterIds.Contains(p.NewsletterId) && p.PhoneHmac == hmac).Select(p => p.ContactId).ToListAsync(ct);
        var endedByNumber = await unsubscribes.WithdrawContactsAsync(contactIds, channel, ct);
        var objection = await objections.ObjectAsync(hmac, channel, staffUser, ct);
        db.Audit(staffUser, "withdrawal", $"number {Redact.Phone(number.E164)} via {channel}: {endedByNumber} subscriptions ended, number suppressed", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new(InformalWithdrawalStatus.Recorded, ByNumber: true, SubscriptionsEnded: endedByNumber, NumberNewlySuppressed: objection.NewlySuppressed);
    }
}
