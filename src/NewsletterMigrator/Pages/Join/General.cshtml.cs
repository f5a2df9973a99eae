using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Join;

/// <summary>The newsletter's public sign-up page, for the website, a QR code or a WhatsApp Channel.</summary>
public sealed class GeneralModel(AppDbContext db, ReaderCache cache, SignUpService signUps,
    IStringLocalizer<SharedResource> text) : SignUpPageModel(db, cache, signUps, text)
{
    protected override string PageName => "general";

    public async Task<IActionResult> OnGetAsync(string slug)
    {
        Newsletter = await Cache.NewsletterBySlugAsync(slug);
        return await ShowFormAsync();
    }

    public async Task<IActionResult> OnPostAsync(string slug)
    {
        // Cached like the GET; the sign-up itself re-reads the newsletter in its transaction (C38).
        Newsletter = await Cache.NewsletterBySlugAsync(slug);
        return await SubmitAsync();
    }
}
