using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin;

public sealed class IndexModel(AppDbContext db, Microsoft.Extensions.Options.IOptions<Common.SendingOptions> sending) : PageModel
{
    /// <summary>The mailto: unsubscribe address; the app does not read it, so staff must (C44).</summary>
    public string? UnsubscribeMailbox => string.IsNullOrWhiteSpace(sending.Value.UnsubscribeMailbox) ? null : sending.Value.UnsubscribeMailbox.Trim();

    public sealed record Row(int Id, string Name, string Slug, int Contacts, int Confirmed, int Pending);

    public List<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Rows = await db.Newsletters.OrderBy(n => n.Name).Select(n => new Row(n.Id, n.Name, n.Slug,
            db.Contacts.Count(c => c.NewsletterId == n.Id),
            db.Subscribers.Count(s => s.NewsletterId == n.Id && s.Status == SubscriberStatus.Confirmed),
            db.Subscribers.Count(s => s.NewsletterId == n.Id && s.Status == SubscriberStatus.Pending))).ToListAsync();
    }
}
