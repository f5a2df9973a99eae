using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

/// <summary>
/// The mail's own HTML, rendered by the same code that sends it, for a sandboxed iframe in the editor.
/// Mail HTML needs inline styles, so this response carries its own strict CSP: no script at all,
/// framed only by our own pages.
/// </summary>
public sealed class PreviewModel(AppDbContext db, CampaignService campaigns, MessageFactory messages) : PageModel
{
    /// <param name="scheme">"dark": the mail as a client in dark mode shows it.</param>
    public async Task<IActionResult> OnGetAsync(int newsletterId, int id, string? scheme)
    {
        var campaign = await campaigns.FindAsync(newsletterId, id);
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == newsletterId);
        if (campaign is null || newsletter is null) return NotFound();
        SecurityHeaders.ForMailPreview(Response);
        return Content(messages.PreviewHtml(newsletter, campaign, newsletter.DefaultLanguage, dark: scheme == "dark"), "text/html; charset=utf-8");
    }
}
