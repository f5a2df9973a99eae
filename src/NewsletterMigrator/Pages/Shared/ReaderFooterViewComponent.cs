using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Shared;

/// <summary>
/// The footer of every page a reader can reach (C39): the Impressum and the privacy notice of the newsletter
/// the page belongs to. A page names its newsletter (<see cref="ReaderPage.Show"/>); an error page re-executed
/// for /n/{slug} finds it by the slug; a page that cannot know it (a forged or expired link) shows the legal
/// pages of the installation's portal: one installation serves one portal, so its first open newsletter's
/// Impressum and privacy notice are the portal's.
/// </summary>
public sealed class ReaderFooterViewComponent(Consent.ReaderCache cache) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var newsletter = ViewData[ReaderPage.NewsletterKey] as Newsletter
                         ?? await FromOriginalPathAsync()
                         ?? await PortalNewsletterAsync();
        return newsletter is null ? Content("") : View(newsletter);
    }

    private async Task<Newsletter?> FromOriginalPathAsync()
    {
        var path = HttpContext.Features.Get<IStatusCodeReExecuteFeature>()?.OriginalPath
                   ?? HttpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path;
        var segments = path?.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is not { Length: >= 2 } || segments[0] != "n") return null;
        var slug = segments[1];
        return await cache.NewsletterBySlugAsync(slug);
    }

    private async Task<Newsletter?> PortalNewsletterAsync()
    {
        var newsletters = await cache.AllNewslettersAsync();
        return newsletters.FirstOrDefault(Newsletters.LegalReadiness.IsOpen) ?? newsletters.FirstOrDefault();
    }
}
