using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Pages.Admin.Feeds;

/// <summary>
/// The mail the feed would make now, rendered by the code that sends campaigns, for the preview's sandboxed frame; with
/// the same strict CSP as a campaign's preview (mail HTML needs inline styles, and runs no script).
/// </summary>
public sealed class PreviewMailModel(AppDbContext db, FeedService feeds, FeedPreview preview, MessageFactory messages) : PageModel
{
    public async Task<IActionResult> OnGetAsync(int newsletterId, int feedId, CancellationToken ct)
    {
        if (await feeds.FindAsync(newsletterId, feedId, ct) is not { } feed) return NotFound();
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, ct);
        if ((await preview.BuildAsync(feed, newsletter, ct)).Sample is not { } sample) return NotFound();
        SecurityHeaders.ForMailPreview(Response);
        return Content(messages.PreviewHtml(newsletter, sample, newsletter.DefaultLanguage), "text/html; charset=utf-8");
    }
}
