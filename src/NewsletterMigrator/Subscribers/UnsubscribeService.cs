using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

/// <summary>How a withdrawal reached us; stored on the ledger's Withdrawn event (C7, C44).</summary>
public static class WithdrawalChannel
{
    public const string Link = "link";
    public const string OneClick = "one-click";
    public const string Admin = "admin";
    /// <summary>Informal withdrawals staff record (C44): a mail, a call, a letter.</summary>
    public const string Mail = "mail";
    public const string Phone = "phone";
    public const string Letter = "letter";
    /// <summary>A STOP reply through the WhatsApp Cloud API webhook (C41).</summary>
    public const string WhatsApp = "whatsapp";
    /// <summary>A mail to the List-Unsubscribe mailto address with the reader's token in the subject (C12, C44).</summary>
    public const string Mailto = "mailto";
    /// <summary>A spam complaint through a mailbox provider's feedback loop (ARF, issue 16).</summary>
    public const string Complaint = "complaint";

    /// <summary>The channels staff pick from when they record a withdrawal by hand.</summary>
    public static readonly string[] Informal = [Mail, Phone, Letter];

    /// <summary>
    /// The channels a reader uses from within one of our mails (its link, one-click header, mailto address): only these
    /// are counted against the campaign whose mail the reader last got. Staff, an opt-out list or a STOP reply say
    /// nothing about which issue, if any, drove the reader away.
    /// </summary>
    public static readonly string[] FromAMail = [Link, OneClick, Mailto];
}

/// <summary>Withdrawal is as easy as consent (C12) and takes effect at once (C13): queued mail is cancelled in the same transaction.</summary>
public sealed class UnsubscribeService(AppDbContext db, TimeProvider clock, ILogger<UnsubscribeService> logger)
{
    /// <summary>
    /// How long after a campaign mail a withdrawal from a mail is still counted against it: the days a campaign's report
    /// shows (Campaigns.CampaignDeliverability.Days). A click on a months-old mail is not that doing.
    /// </summary>
    public static readonly TimeSpan AttributionWindow = TimeSpan.FromDays(14);

    public async Task<Subscriber?> FindAsync(string token, CancellationToken ct = default)
    {
        var hash = TokenService.TryHash(token);
        if (hash is null) return null;
        var subscriber = await db.Subscribers.SingleOrDefaultAsync(s => s.UnsubscribeTokenHash == hash, ct);
        return subscriber is not null && TokenService.Matches(token, subscriber.UnsubscribeTokenHash) ? subscriber : null;
    }

    public async Task<bool> UnsubscribeAsync(string token, string channel, CancellationToken ct = default)
    {
        var subscriber = await FindAsync(token, ct);
        if (subscriber is null) return false;
        await WithdrawAsync(subscriber, channel, ct);
        return true;
    }

    /// <summary>Ends every pending or confirmed subscription of the address (all newsletters); returns how many.</summary>
    public Task<int> WithdrawAddressAsync(string emailKey, string channel, CancellationToken ct = default) =>
        WithdrawAddressAsync(emailKey, channel, reportedMail: null, ct);

    /// <param name="reportedMail">The mail a complaint was about: its reader's withdrawal is counted against its campaign.</param>
    public async Task<int> WithdrawAddressAsync(string emailKey, string channel, OutboundMessage? reportedMail, CancellationToken ct = default) =>
        await WithdrawAllAsync(await db.SubscriptionsOfAddressAsync(emailKey, ct), channel, ct,
            campaignOf: s => reportedMail is { Kind: MessageKind.Campaign } && reportedMail.SubscriberId == s.Id ? reportedMail.CampaignId : null);

    /// <summary>Ends every pending or confirmed subscription that came from one of the contacts; returns how many.</summary>
    public async Task<int> WithdrawContactsAsync(IReadOnlyCollection<Guid> contactIds, string channel, CancellationToken ct = default) =>
        contactIds.Count == 0 ? 0 : await WithdrawAllAsync(db.Subscribers.Where(s => s.ContactId != null && contactIds.Contains(s.ContactId.Value)), channel, ct);

    /// <param name="campaignOf">The campaign each withdrawal is counted against, where the caller knows it.</param>
    private async Task<int> WithdrawAllAsync(IQueryable<Subscriber> subscribers, string channel, CancellationToken ct, Func<Subscriber, int?>? campaignOf = null)
    {
        var active = await subscribers.Where(s => s.Status == SubscriberStatus.Pending || s.Status == SubscriberStatus.Confirmed).ToListAsync(ct);
        foreach (var subscriber in active) await WithdrawAsync(subscriber, channel, campaignOf?.Invoke(subscriber), ct);
        return active.Count;
    }

    /// <summary>Unsubscribes a tracked subscriber with the channel on the ledger; nothing happens when already unsubscribed.</summary>
    public Task WithdrawAsync(Subscriber subscriber, string channel, CancellationToken ct = default) =>
        WithdrawAsync(subscriber, channel, campaignId: null, ct);

    /// <param name="campaignId">
    /// The campaign the withdrawal is counted against in its report (issue 16.3): the one a report was about where known,
    /// else, for a channel the reader uses from a mail (<see cref="WithdrawalChannel.FromAMail"/>), the last campaign mail
    /// the reader was sent within <see cref="AttributionWindow"/>; else none. Set when the event is written: the ledger is
    /// append-only.
    /// </param>
    public async Task WithdrawAsync(Subscriber subscriber, string channel, int? campaignId, CancellationToken ct = default)
    {
        if (subscriber.Status == SubscriberStatus.Unsubscribed) return;

        // Its own transaction, or the caller's (an admin's suppression, the opt-out list) when one is open.
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        // Checked again under the subscriber's lock: of two clicks at once (or a click and a STOP), one withdraws
        // and the ledger holds one Withdrawn event; an erased subscriber has nothing left to withdraw.
        if (!await db.LockAsync(subscriber, ct) || subscriber.Status == SubscriberStatus.Unsubscribed) return;
        var now = clock.GetUtcNow().UtcDateTime;
        if (campaignId is null && WithdrawalChannel.FromAMail.Contains(channel))
        {
            var since = now - AttributionWindow;
            campaignId = await db.OutboundMessages
                .Where(m => m.SubscriberId == subscriber.Id && m.Kind == MessageKind.Campaign && m.Status == MessageStatus.Sent && m.SentAtUtc >= since)
                .OrderByDescending(m => m.SentAtUtc).Select(m => m.CampaignId).FirstOrDefaultAsync(ct);
        }
        subscriber.Status = SubscriberStatus.Unsubscribed;
        subscriber.UnsubscribedAtUtc = now;
        ConsentLedger.Withdrawn(db, subscriber, channel, campaignId, now);
        await db.SaveChangesAsync(ct);
        await Outbox.CancelPendingAsync(db, subscriber.Id, ct);
        if (subscriber.ContactId is { } contactId)
        {
            await db.Contacts.Where(c => c.Id == contactId && c.UnsubscribedAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.UnsubscribedAtUtc, now), ct);
        }
        if (transaction is not null) await transaction.CommitAsync(ct);
        logger.LogInformation("Subscriber {SubscriberId} unsubscribed via {Channel}", subscriber.Id, channel);
    }
}
