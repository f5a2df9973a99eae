using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Shared;

/// <summary>
/// The footer of every page a reader can reach (C39): the Impressum and the privacy notice of the newsletter
/// the page belongs to. A page names its newsletter (<see cref="ReaderPage.Show"/>); an error page re-executed
/// for /n/{slug} finds it by the slug; a page that cannot know it (a forged link) uses the installation's
/// only newsletter, since one installation serves one portal.
/// </summary>
public sealed class ReaderFooterViewComponent(AppDbContext db) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var newsletter = ViewData[ReaderPage.NewsletterKey] as Newsletter
                         ?? await FromOriginalPathAsync()
                         ?? await OnlyNewsletterAsync();
        return newsletter is null ? Content("") : View(newsletter);
    }

    private async Task<Newsletter?> FromOriginalPathAsync()
    {
        var path = HttpContext.Features.Get<IStatusCodeReExecuteFeature>()?.OriginalPath
                   ?? HttpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path;
        var segments = path?.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is not { Length: >= 2 } || segments[0] != "n") return null;
        var slug = segments[1];
        return await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Slug == slug);
    }

    private async Task<Newsletter?> OnlyNewsletterAsync()
    {
        var first = await db.Newsletters.AsNoTracking().OrderBy(n => n.Id).Take(2).ToListAsync();
        return first.Count == 1 ? first[0] : null;
    }
}
