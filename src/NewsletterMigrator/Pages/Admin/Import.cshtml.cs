using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Pages.Admin;

public sealed class ImportModel(AppDbContext db, ContactImporter importer, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [BindProperty] public IFormFile? Upload { get; set; }
    [BindProperty] public string? LegalBasis { get; set; }
    public string NewsletterName { get; private set; } = "";
    public ImportSummary? Summary { get; private set; }
    public List<ImportIssue> Issues { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync()) return NotFound();
        if (Upload is null || Upload.Length == 0)
        {
            ModelState.AddModelError(nameof(Upload), text["Import_NoFile"]);
            return Page();
        }
        try
        {
            await using var stream = Upload.OpenReadStream();
            Summary = await importer.ImportAsync(NewsletterId, stream, Upload.FileName, User.Identity!.Name!, LegalBasis?.Trim() ?? "", cancellationToken: ct);
            Issues = await db.ImportIssues.AsNoTracking().Where(i => i.ImportBatchId == Summary.BatchId).OrderBy(i => i.Line).Take(500).ToListAsync(ct);
        }
        catch (ImportFormatException ex)
        {
            ModelState.AddModelError(nameof(Upload), text[ex.ReasonKey]);
        }
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        NewsletterName = await db.Newsletters.Where(n => n.Id == NewsletterId).Select(n => n.Name).SingleOrDefaultAsync() ?? "";
        return NewsletterName.Length > 0;
    }
}
