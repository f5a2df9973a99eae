using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Subscribers;

/// <summary>Finds the records of one person for a data request or a STOP reply: by exact address or by phone number.</summary>
public sealed class SubscriberLookup(AppDbContext db, PhoneProtector phones)
{
    public sealed record Match(Newsletter Newsletter, Subscriber? Subscriber, Contact? Contact, List<ConsentEvent> Ledger);

    public async Task<List<Match>> FindAsync(string query, CancellationToken ct = default)
    {
        query = query.Trim();
        if (query.Length == 0) return [];
        var newsletters = await db.Newsletters.AsNoTracking().ToDictionaryAsync(n => n.Id, ct);
        var matches = new List<Match>();
        if (query.Contains('@'))
        {
            if (!EmailAddress.TryNormalize(query, out var email)) return [];
            var key = EmailAddress.Key(email);
            foreach (var subscriber in await db.Subscribers.Where(s => s.EmailKey == key).ToListAsync(ct))
            {
                var contact = subscriber.ContactId is { } id ? await db.Contacts.SingleOrDefaultAsync(c => c.Id == id, ct) : null;
                matches.Add(new Match(newsletters[subscriber.NewsletterId], subscriber, contact, await LedgerAsync(subscriber.Id, ct)));
            }
            return matches;
        }
        // A number is normalised with each newsletter's default region, as its import did.
        foreach (var newsletter in newsletters.Values)
        {
            var result = PhoneNormalizer.Normalize(query, newsletter.DefaultRegion);
            if (!result.IsValid) continue;
            var hmac = phones.Hmac(result.E164!);
            // Two seeks by key: the number's entry, then its contact (a correlated EXISTS would walk every contact).
            var contactId = await db.ContactPhones.Where(p => p.NewsletterId == newsletter.Id && p.PhoneHmac == hmac).Select(p => (Guid?)p.ContactId).SingleOrDefaultAsync(ct);
            var contact = contactId is { } id ? await db.Contacts.SingleOrDefaultAsync(c => c.Id == id, ct) : null;
            if (contact is null) continue;
            var subscribers = await db.Subscribers.Where(s => s.ContactId == contact.Id).ToListAsync(ct);
            if (subscribers.Count == 0) matches.Add(new Match(newsletter, null, contact, []));
            foreach (var subscriber in subscribers) matches.Add(new Match(newsletter, subscriber, contact, await LedgerAsync(subscriber.Id, ct)));
        }
        return matches;
    }

    public Task<Subscriber?> SubscriberAsync(Guid id, CancellationToken ct = default) => db.Subscribers.SingleOrDefaultAsync(s => s.Id == id, ct);

    public Task<Contact?> ContactAsync(Guid id, CancellationToken ct = default) => db.Contacts.SingleOrDefaultAsync(c => c.Id == id, ct);

    private Task<List<ConsentEvent>> LedgerAsync(Guid subscriberId, CancellationToken ct) =>
        db.ConsentEvents.AsNoTracking().Where(e => e.SubscriberId == subscriberId).OrderBy(e => e.Id).ToListAsync(ct);
}
