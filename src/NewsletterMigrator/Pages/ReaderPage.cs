using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages;

/// <summary>
/// What a reader page tells the layout about its newsletter: the brand in the header, and the newsletter whose
/// Impressum and privacy notice the footer links (C39).
/// </summary>
public static class ReaderPage
{
    public const string NewsletterKey = "ReaderNewsletter";

    /// <summary>Set by the one kind of reader page search engines may index (an archive the newsletter opted in, issue 21).</summary>
    public const string IndexableKey = "ReaderIndexable";

    /// <summary>The layout leaves out its robots noindex: only for a public archive whose newsletter opted in.</summary>
    public static void AllowIndexing(this PageModel page) => page.ViewData[IndexableKey] = true;

    public static void Show(this PageModel page, Newsletter newsletter)
    {
        page.ViewData["Brand"] = newsletter.Name;
        page.ViewData[NewsletterKey] = newsletter;
    }

    /// <summary>Loads the newsletter (from <see cref="Consent.ReaderCache"/>: read-only), shows it in header and footer, and returns it.</summary>
    public static async Task<Newsletter> ShowNewsletterAsync(this PageModel page, AppDbContext db, int newsletterId)
    {
        var newsletter = await page.HttpContext.RequestServices.GetRequiredService<Consent.ReaderCache>().NewsletterAsync(newsletterId)
                         ?? await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId);
        page.Show(newsletter);
        return newsletter;
    }
}
