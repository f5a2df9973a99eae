using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>Step 1 of an import: upload the list (spooled to the data folder), then the preview.</summary>
public sealed class ImportModel(AppDbContext db, ImportSpool spool, IOptions<ImportOptions> options, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [BindProperty] public IFormFile? Upload { get; set; }
    [BindProperty] public string? LegalBasis { get; set; }
    public string NewsletterName { get; private set; } = "";
    public long MaxUploadBytes => options.Value.MaxUploadBytes;
    public string MaxUploadText => $"{MaxUploadBytes / (1024.0 * 1024.0):0.#} MB";
    public List<ImportBatch> Recent { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(bool tooLarge = false)
    {
        if (!await LoadAsync()) return NotFound();
        if (tooLarge) ModelState.AddModelError(nameof(Upload), text["Import_TooLarge", MaxUploadText]);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync()) return NotFound();
        if (Upload is null || Upload.Length == 0)
        {
            ModelState.AddModelError(nameof(Upload), text["Import_NoFile"]);
            return Page();
        }
        if (Upload.Length > MaxUploadBytes)
        {
            ModelState.AddModelError(nameof(Upload), text["Import_TooLarge", MaxUploadText]);
            return Page();
        }
        await using var stream = Upload.OpenReadStream();
        var id = await spool.SaveAsync(stream, NewsletterId, Upload.FileName, User.Identity!.Name!, LegalBasis?.Trim() ?? "", ct);
        return RedirectToPage("/Admin/ImportPreview", new { newsletterId = NewsletterId, uploadId = id });
    }

    private async Task<bool> LoadAsync()
    {
        NewsletterName = await db.Newsletters.Where(n => n.Id == NewsletterId).Select(n => n.Name).SingleOrDefaultAsync() ?? "";
        Recent = await db.ImportBatches.AsNoTracking().Where(b => b.NewsletterId == NewsletterId).OrderByDescending(b => b.Id).Take(10).ToListAsync();
        return NewsletterName.Length > 0;
    }
}
