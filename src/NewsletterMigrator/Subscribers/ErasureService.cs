using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

/// <summary>
/// Erasure (Art. 17, C18). In one transaction: queued mail is cancelled, the subscriber row and the
/// personal data of the contact it came from are removed, outbox rows lose the address, and only keyed
/// hashes stay: on the suppression list (address and number are never mailed or imported again) and in
/// <see cref="ErasedSubscriber"/>, which pseudonymises the untouched consent ledger until C17 ends.
/// </summary>
public sealed class ErasureService(AppDbContext db, KeyRing keys, SuppressionList suppressions, PhoneObjections objections,
    UnsubscribeService unsubscribes, TimeProvider clock, ILogger<ErasureService> logger)
{
    public async Task EraseAsync(Subscriber subscriber, string channel, string? staffUser, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Under the subscriber's lock: of two erasures at once (a double click) the second finds nothing left to erase,
        // and the address hashed is the one stored now, even if it changed since the page read it.
        if (!await db.LockAsync(subscriber, ct)) return;
        var emailHash = SuppressionHash.Email(keys, subscriber.EmailKey);

        var lastMail = await db.OutboundMessages.Where(m => m.SubscriberId == subscriber.Id && m.SentAtUtc != null)
            .MaxAsync(m => m.SentAtUtc, ct);
        await Outbox.CancelPendingAsync(db, subscriber.Id, ct);
        await db.OutboundMessages.Where(m => m.SubscriberId == subscriber.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.ToAddress, "").SetProperty(m => m.LastReply, (string?)null), ct);

        await suppressions.AddAsync(SuppressionKind.Email, emailHash, "erasure", now, ct);
        if (subscriber.ContactId is { } contactId && await db.Contacts.SingleOrDefaultAsync(c => c.Id == contactId, ct) is { } contact)
        {
            await suppressions.AddAsync(SuppressionKind.Phone, contact.PhoneHmac, "erasure", now, ct);
            await ScrubContactAsync(contact, now, ct);
        }

        // The ledger rows stay as they are (append-only): this row says whose they were, as a keyed hash.
        db.ErasedSubscribers.Add(new ErasedSubscriber
        {
            SubscriberId = subscriber.Id, NewsletterId = subscriber.NewsletterId, EmailHash = emailHash,
            Reason = staffUser is null ? "erasure (reader)" : "erasure (admin)", ErasedAtUtc = now, LastMailAtUtc = lastMail,
        });
        ConsentLedger.Erased(db, subscriber, channel, now);
        if (staffUser is not null) db.Audit(staffUser, "erase", $"subscriber {subscriber.Id} of newsletter {subscriber.NewsletterId}", now);
        db.Subscribers.Remove(subscriber);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogInformation("Subscriber {SubscriberId} erased via {Channel}", subscriber.Id, channel);
    }

    /// <summary>Removes a contact's number and name on an admin's erasure request (a STOP reply goes through PhoneObjections).</summary>
    public async Task EraseContactAsync(Contact contact, string staffUser, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await suppressions.AddAsync(SuppressionKind.Phone, contact.PhoneHmac, "erasure", now, ct);
        await ScrubContactAsync(contact, now, ct);
        db.Audit(staffUser, "erase", $"contact {contact.Id} of newsletter {contact.NewsletterId}", now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    public enum ManualSuppression { Added, AlreadyListed, Invalid }

    /// <summary>An admin puts an address or a number (e.g. from a STOP reply) on the suppression list.</summary>
    public async Task<ManualSuppression> SuppressManuallyAsync(string value, string region, string staffUser, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        value = value.Trim();
        if (!value.Contains('@'))
        {
            // A number: the same objection as a STOP reply (C41), so its contacts lose number and link too.
            var number = Importing.PhoneNormalizer.Normalize(value, region);
            if (!number.IsValid) return ManualSuppression.Invalid;
            var objection = await objections.ObjectNumberAsync(number.E164!, WithdrawalChannel.Admin, staffUser, ct);
            return objection.NewlySuppressed ? ManualSuppression.Added : ManualSuppression.AlreadyListed;
        }
        if (!EmailAddress.TryNormalize(value, out var email)) return ManualSuppression.Invalid;
        var key = EmailAddress.Key(email);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var added = await suppressions.AddAsync(SuppressionKind.Email, SuppressionHash.Email(keys, key), "admin", now, ct);
        // Never mailed again also means now: active subscriptions of the address end as a withdrawal by the admin.
        await unsubscribes.WithdrawAddressAsync(key, WithdrawalChannel.Admin, ct);
        db.Audit(staffUser, "suppress", $"address {Common.Redact.Email(email)}", now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return added ? ManualSuppression.Added : ManualSuppression.AlreadyListed;
    }

    // The row stays for the funnel's counts; number, name, the HMAC that links it to a number (and its entry among
    // the newsletter's numbers) and the invitation link go.
    private async Task ScrubContactAsync(Contact contact, DateTime now, CancellationToken ct)
    {
        // By the entry's key, which the loaded contact gives (ContactPhones has no index on the contact), and only if it is this contact's.
        var (contactId, newsletterId, hmac) = (contact.Id, contact.NewsletterId, contact.PhoneHmac);
        await db.ContactPhones.Where(p => p.NewsletterId == newsletterId && p.PhoneHmac == hmac && p.ContactId == contactId).ExecuteDeleteAsync(ct);
        await db.Contacts.Where(c => c.Id == contactId).ExecuteUpdateAsync(u => u
            .SetProperty(c => c.PhoneEncrypted, (byte[]?)null)
            .SetProperty(c => c.DisplayName, (string?)null)
            .SetProperty(c => c.PhoneHmac, Array.Empty<byte>())
            .SetProperty(c => c.InviteRevoked, true)
            .SetProperty(c => c.UnsubscribedAtUtc, c => c.UnsubscribedAtUtc ?? now), ct);
    }
}
