using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Subscribers;

public static class WithdrawalChannel
{
    public const string Link = "link";
    public const string OneClick = "one-click";
    public const string Admin = "admin";
}

/// <summary>Withdrawal is as easy as consent (C12) and takes effect at once (C13): queued mail is cancelled in the same transaction.</summary>
public sealed class UnsubscribeService(AppDbContext db, TimeProvider clock, ILogger<UnsubscribeService> logger)
{
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
        if (subscriber.Status == SubscriberStatus.Unsubscribed) return true;

        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        subscriber.Status = SubscriberStatus.Unsubscribed;
        subscriber.UnsubscribedAtUtc = now;
        db.ConsentEvents.Add(new ConsentEvent
        {
            SubscriberId = subscriber.Id,
            NewsletterId = subscriber.NewsletterId,
            Kind = ConsentEventKind.Withdrawn,
            OccurredAtUtc = now,
            Channel = channel,
        });
        await db.SaveChangesAsync(ct);
        await db.OutboundMessages
            .Where(m => m.SubscriberId == subscriber.Id && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Leased))
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MessageStatus.Cancelled), ct);
        if (subscriber.ContactId is { } contactId)
        {
            await db.Contacts.Where(c => c.Id == contactId && c.UnsubscribedAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.UnsubscribedAtUtc, now), ct);
        }
        await transaction.CommitAsync(ct);
        logger.LogInformation("Subscriber {SubscriberId} unsubscribed via {Channel}", subscriber.Id, channel);
        return true;
    }
}
