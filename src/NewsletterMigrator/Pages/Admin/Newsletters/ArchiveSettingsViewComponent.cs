using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.Newsletters;

/// <summary>The settings page's archive section (issue 21): the three modes explained, search-engine indexing, the addresses.</summary>
public sealed class ArchiveSettingsViewComponent(AppDbContext db, IOptions<AppOptions> app) : ViewComponent
{
    public sealed record Model(int NewsletterId, ArchiveMode Mode, bool Indexable, string ListUrl, string FeedUrl, string? Error);

    public async Task<IViewComponentResult> InvokeAsync(int newsletterId)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == newsletterId);
        if (newsletter is null) return Content("");
        return View(new Model(newsletter.Id, newsletter.Archive, newsletter.ArchiveIndexable,
            ArchiveLinks.ListUrl(app.Value, newsletter), ArchiveLinks.FeedUrl(app.Value, newsletter), TempData[ArchiveModel.ErrorKey] as string));
    }
}
