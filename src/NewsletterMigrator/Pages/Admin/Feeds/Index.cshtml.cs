using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Pages.Admin.Feeds;

/// <summary>A newsletter's feeds with their health: the last poll, failures in a row and the next try after a back-off.</summary>
public sealed class IndexModel(AppDbContext db, FeedService feeds) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    public string NewsletterName { get; private set; } = "";
    public List<Feed> Feeds { get; private set; } = [];
    /// <summary>Per feed, its campaigns that wait as drafts for approval.</summary>
    public Dictionary<int, int> Waiting { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        NewsletterName = await db.Newsletters.Where(n => n.Id == NewsletterId).Select(n => n.Name).SingleOrDefaultAsync() ?? "";
        if (NewsletterName.Length == 0) return NotFound();
        Feeds = await feeds.ListAsync(NewsletterId);
        Waiting = await db.Campaigns.Where(c => c.NewsletterId == NewsletterId && c.FeedId != null && c.Status == CampaignStatus.Draft)
            .GroupBy(c => c.FeedId!.Value).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
        return Page();
    }
}
