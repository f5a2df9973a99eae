using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Subscribers;

public static class SubscriptionsOfAddress
{
    /// <summary>
    /// Every subscription of the address, in every newsletter, through the (newsletter, address) index, one seek per
    /// newsletter: the address alone has no index, and an opt-out list or a bounce asks this once per address.
    /// </summary>
    public static async Task<IQueryable<Subscriber>> SubscriptionsOfAddressAsync(this AppDbContext db, string emailKey, CancellationToken ct)
    {
        var newsletterIds = await db.Newsletters.Select(n => n.Id).ToListAsync(ct);
        return db.Subscribers.Where(s => newsletterIds.Contains(s.NewsletterId) && s.EmailKey == emailKey);
    }
}
