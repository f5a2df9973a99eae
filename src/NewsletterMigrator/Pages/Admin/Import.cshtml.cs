using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>
/// Step 1 of an import: upload the list (spooled to the data folder), then the preview. The legal basis
/// and the migration end date are checked here, before anything is stored (C16, C36), and again when the
/// import starts.
/// </summary>
[AcceptsUpload]
public sealed class ImportModel(AppDbContext db, ImportSpool spool, IOptions<ImportOptions> options, IStringLocalizer<SharedResource> text,
    TimeProvider clock) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [BindProperty] public IFormFile? Upload { get; set; }
    [BindProperty] public string? LegalBasisKind { get; set; }
    [BindProperty] public string? LegalBasis { get; set; }
    public string NewsletterName { get; private set; } = "";
    public long MaxUploadBytes => options.Value.MaxUploadBytes;
    public string MaxUploadText => options.Value.MaxUploadText;
    public List<ImportBatch> Recent { get; private set; } = [];
    public MigrationEndReminder? Reminder { get; private set; }
    /// <summary>Shown before the editor picks a file: without an end date in the future no import can start.</summary>
    public string? WindowMessage { get; private set; }
    private Newsletter? _newsletter;

    public async Task<IActionResult> OnGetAsync(bool tooLarge = false)
    {
        if (!await LoadAsync()) return NotFound();
        if (tooLarge) ModelState.AddModelError(nameof(Upload), text["Import_TooLarge", MaxUploadText]);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync()) return NotFound();
        var basis = new ImportLegalBasis(LegalBasisKind ?? "", LegalBasis ?? "").Trimmed();
        foreach (var refusal in ImportRules.Check(_newsletter!, basis, clock.GetUtcNow().UtcDateTime))
        {
            var field = refusal switch
            {
                ImportRefusal.LegalBasisKindMissing => nameof(LegalBasisKind),
                ImportRefusal.LegalBasisMissing => nameof(LegalBasis),
                _ => "",
            };
            ModelState.AddModelError(field, text[ImportRules.ResourceKey(refusal)]);
        }
        if (basis.Text.Length > LegalBases.MaxTextLength)
            ModelState.AddModelError(nameof(LegalBasis), text["Import_LegalBasisTooLong", LegalBases.MaxTextLength]);
        if (UploadRefusal.Of(Upload, options.Value) is { } refused) ModelState.AddModelError(nameof(Upload), text[refused, MaxUploadText]);
        if (!ModelState.IsValid)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        await using var stream = Upload!.OpenReadStream();
        var id = await spool.SaveAsync(stream, NewsletterId, Upload.FileName, User.Identity!.Name!, basis, ct);
        return RedirectToPage("/Admin/ImportPreview", new { newsletterId = NewsletterId, uploadId = id });
    }

    private async Task<bool> LoadAsync()
    {
        _newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (_newsletter is null) return false;
        NewsletterName = _newsletter.Name;
        var now = clock.GetUtcNow().UtcDateTime;
        Reminder = MigrationEnd.Reminder(_newsletter, now);
        var window = MigrationEnd.Window(_newsletter, now);
        WindowMessage = window == MigrationWindow.Open ? null : text[MigrationEnd.MessageKey(window)].Value;
        Recent = await db.ImportBatches.AsNoTracking().Where(b => b.NewsletterId == NewsletterId).OrderByDescending(b => b.Id).Take(10).ToListAsync();
        return true;
    }
}
