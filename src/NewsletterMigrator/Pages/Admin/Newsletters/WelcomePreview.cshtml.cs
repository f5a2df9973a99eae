using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Pages.Admin.Newsletters;

/// <summary>
/// The welcome mail as stored, rendered by the code that sends it, in a reader's language, for a sandboxed iframe on the
/// welcome settings page; with the archive's latest issues when the archive feature provides them. Its own strict CSP,
/// as the campaign preview's: mail HTML needs inline styles, and no script runs.
/// </summary>
public sealed class WelcomePreviewModel(AppDbContext db, MessageFactory messages, IEnumerable<ILatestIssues> archives) : PageModel
{
    public async Task<IActionResult> OnGetAsync(int id, string language, CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == id, ct);
        if (newsletter is null) return NotFound();
        IReadOnlyList<ArchivedIssue> latest = newsletter.WelcomeLatestIssues > 0 && archives.FirstOrDefault() is { } archive
            ? await archive.LatestAsync(newsletter, newsletter.WelcomeLatestIssues, ct) : [];
        SecurityHeaders.ForMailPreview(Response);
        return Content(messages.WelcomePreviewHtml(newsletter, language, latest), "text/html; charset=utf-8");
    }
}
