using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

/// <summary>A newsletter's campaigns and its standing with the mailbox providers: the page an editor opens for the newsletter's mail.</summary>
public sealed class IndexModel(AppDbContext db, NewsletterReputation reputation) : PageModel
{
    public sealed record Row(int Id, string Subject, CampaignStatus Status, int Recipients, int Sent, int Failed, bool FromFeed, bool Breaking);

    [FromRoute] public int NewsletterId { get; set; }
    public string NewsletterName { get; private set; } = "";
    public List<Row> Rows { get; private set; } = [];
    public NewsletterReputation.Figures Reputation { get; private set; } = new(0, 0, 0, 0, 0, 0, null, null);

    public async Task<IActionResult> OnGetAsync()
    {
        NewsletterName = await db.Newsletters.Where(n => n.Id == NewsletterId).Select(n => n.Name).SingleOrDefaultAsync() ?? "";
        if (NewsletterName.Length == 0) return NotFound();
        Rows = await db.Campaigns.Where(c => c.NewsletterId == NewsletterId).OrderByDescending(c => c.Id)
            .Select(c => new Row(c.Id, c.Subject, c.Status, c.RecipientCount,
                db.OutboundMessages.Count(m => m.CampaignId == c.Id && m.Kind == MessageKind.Campaign && m.Status == MessageStatus.Sent),
                db.OutboundMessages.Count(m => m.CampaignId == c.Id && m.Kind == MessageKind.Campaign && m.Status == MessageStatus.Failed), c.FeedId != null, c.Breaking))
            .ToListAsync();
        Reputation = await reputation.ForAsync(NewsletterId);
        return Page();
    }
}
