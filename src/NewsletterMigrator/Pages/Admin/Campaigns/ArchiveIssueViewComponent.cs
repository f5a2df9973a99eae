using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

/// <summary>The report page's archive section (issue 21): where the issue is public, and for admins withdraw or restore.</summary>
public sealed class ArchiveIssueViewComponent(AppDbContext db, IOptions<AppOptions> app) : ViewComponent
{
    public sealed record Model(int NewsletterId, int CampaignId, ArchiveMode Mode, string? Url, DateTime? WithdrawnAtUtc, string? WithdrawnBy, bool Cancelled);

    public async Task<IViewComponentResult> InvokeAsync(int newsletterId, int campaignId)
    {
        // The archive columns only: the campaign's bodies are the report page's business, not this section's.
        var row = await db.Campaigns.AsNoTracking().Of(newsletterId, campaignId)
            .Join(db.Newsletters, c => c.NewsletterId, n => n.Id,
                (c, n) => new { c.ArchiveSlug, c.ArchiveWithdrawnAtUtc, c.ArchiveWithdrawnBy, c.Status, n.Archive, NewsletterSlug = n.Slug })
            .SingleOrDefaultAsync();
        // A draft, a scheduled campaign or a test mail has no archive address yet: nothing to show.
        if (row?.ArchiveSlug is not { } slug) return Content("");
        return View(new Model(newsletterId, campaignId, row.Archive,
            app.Value.Link(ArchiveAddress.IssuePath(row.NewsletterSlug, slug)), row.ArchiveWithdrawnAtUtc, row.ArchiveWithdrawnBy, row.Status == CampaignStatus.Cancelled));
    }
}
