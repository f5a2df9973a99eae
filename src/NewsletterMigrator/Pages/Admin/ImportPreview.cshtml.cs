using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>Step 2: the first rows with the detected column mapping, which the editor may change; then start.</summary>
public sealed class ImportPreviewModel(ImportSpool spool, UploadPreviews previews, ImportQueue queue, ContactImporter importer, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public Guid UploadId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Sheet { get; set; }
    [BindProperty] public int PhoneColumn { get; set; } = -1;
    [BindProperty] public int NameColumn { get; set; } = -1;
    [BindProperty] public int FirstNameColumn { get; set; } = -1;
    [BindProperty] public int LastNameColumn { get; set; } = -1;
    [BindProperty] public bool HasHeader { get; set; }
    public UploadInfo? Info { get; private set; }
    public ListPreview? Preview { get; private set; }
    public string? Error { get; private set; }

    public IActionResult OnGet()
    {
        if (!Load()) return NotFound();
        if (Preview?.Mapping is { } m)
        {
            (PhoneColumn, NameColumn, FirstNameColumn, LastNameColumn, HasHeader) = (m.PhoneColumn, m.NameColumn, m.FirstNameColumn, m.LastNameColumn, m.HasHeader);
            // Several phone columns: all of them by default, each row's mobile number taken; the editor may still pick one.
            if (m.PhoneFields is not null) PhoneColumn = ImportMapping.AllPhoneColumns;
        }
        else if (Preview is { IsTable: true }) ModelState.AddModelError(nameof(PhoneColumn), text["Import_NoPhoneColumn"]);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!Load()) return NotFound();
        if (Preview is null) return Page();
        ImportMapping? mapping = null;
        if (Preview.IsTable)
        {
            var columns = Math.Max(Preview.Headers.Count, 1);
            // The detected phone columns come from the kept preview, not from the form: the form only says "all of them".
            var several = PhoneColumn == ImportMapping.AllPhoneColumns ? Preview.Mapping?.PhoneFields : null;
            if (several is null && (PhoneColumn < 0 || PhoneColumn >= columns))
            {
                ModelState.AddModelError(nameof(PhoneColumn), text["Import_ChoosePhoneColumn"]);
                return Page();
            }
            int Column(int c) => c >= 0 && c < columns ? c : -1;
            mapping = new ImportMapping(several is null ? PhoneColumn : Preview.Mapping!.PhoneColumn, Column(NameColumn), Column(FirstNameColumn), Column(LastNameColumn), HasHeader,
                Preview.Sheets.Contains(Sheet ?? "") ? Sheet : null, several);
        }
        var info = Info!;
        // The rules again: the end date may have passed, or been cleared, since the upload (C16, C36).
        var start = await importer.StartBatchAsync(NewsletterId, info.FileName, User.Identity!.Name!, info.Basis, ct, info.Length);
        if (start.Refused)
        {
            foreach (var refusal in start.Refusals) ModelState.AddModelError("", text[ImportRules.ResourceKey(refusal)]);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        var batchId = start.BatchId;
        queue.Enqueue(new ImportJob(batchId, NewsletterId, UploadId, info.FileName, User.Identity!.Name!, mapping));
        return RedirectToPage("/Admin/ImportBatch", new { newsletterId = NewsletterId, batchId });
    }

    public IActionResult OnPostDiscard()
    {
        if (spool.Find(NewsletterId, UploadId) is null) return NotFound();
        spool.Delete(UploadId);
        return RedirectToPage("/Admin/Import", new { newsletterId = NewsletterId });
    }

    private bool Load()
    {
        Info = spool.Find(NewsletterId, UploadId);
        if (Info is null) return false;
        var shown = previews.Show(UploadId, Info, string.IsNullOrEmpty(Sheet) ? null : Sheet);
        Preview = shown.Preview;
        if (shown.ErrorKey is { } reason) Error = text[reason, ImportLimits.MessageArguments()];
        return true;
    }
}
