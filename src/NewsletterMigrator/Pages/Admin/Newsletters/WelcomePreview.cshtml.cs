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
public sealed class WelcomePreviewModel(AppDbContext db, MessageFactory messages, ILatestIssues? archive = null) : PageModel
{
    /// <param name="scheme">"dark": the mail as a client in dark mode shows it, as in the campaign editor.</param>
    public async Task<IActionResult> OnGetAsync(int id, string language, string? scheme, CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == id, ct);
        if (newsletter is null) return NotFound();
        IReadOnlyList<ArchivedIssue> latest = archive is null ? [] : await archive.LatestAsync(newsletter, newsletter.WelcomeLatestIssues, ct);
        SecurityHeaders.ForMailPreview(Response);
        return Content(messages.WelcomePreviewHtml(newsletter, language, latest, dark: scheme == "dark"), "text/html; charset=utf-8");
    }
}
