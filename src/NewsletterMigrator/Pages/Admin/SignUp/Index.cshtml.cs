using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.SignUp;

/// <summary>The general sign-up link /n/{slug} and its QR code, for print, the website, a WhatsApp Channel or status.</summary>
public sealed class IndexModel(AppDbContext db, IOptions<AppOptions> app) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    public string NewsletterName { get; private set; } = "";
    public string SignUpUrl { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync()
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return NotFound();
        NewsletterName = newsletter.Name;
        SignUpUrl = app.Value.Link($"n/{newsletter.Slug}");
        return Page();
    }
}
