using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Pages.Admin.Feeds;

/// <summary>The feed's current items, which of them the rule takes, and the mail they would make (in a sandboxed frame).</summary>
public sealed class PreviewModel(AppDbContext db, FeedService feeds, FeedPreview preview) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public int FeedId { get; set; }
    public Feed Feed { get; private set; } = null!;
    public FeedPreview.Result Result { get; private set; } = new([], null, null);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (await feeds.FindAsync(NewsletterId, FeedId, ct) is not { } feed) return NotFound();
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == NewsletterId, ct);
        Feed = feed;
        Result = await preview.BuildAsync(feed, newsletter, ct);
        return Page();
    }
}
