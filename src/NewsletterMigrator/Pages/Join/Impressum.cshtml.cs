using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Join;

/// <summary>The Impressum as text, for portals that give no Impressum page of their own (C39).</summary>
public sealed class ImpressumModel(Consent.ReaderCache cache) : PageModel
{
    public Newsletter? Newsletter { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug)
    {
        Newsletter = await cache.NewsletterBySlugAsync(slug);
        if (Newsletter is null || string.IsNullOrWhiteSpace(Newsletter.Impressum)) return NotFound();
        this.Show(Newsletter);
        return Page();
    }
}
