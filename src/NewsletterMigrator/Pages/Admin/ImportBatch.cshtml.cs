using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>Step 3: the running import's progress (can be left and revisited), then its row-level report.</summary>
public sealed class ImportBatchModel(AppDbContext db, ImportQueue queue, IStringLocalizer<SharedResource> text, TimeProvider clock) : PageModel
{
    private const int IssuesShown = 500;

    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public int BatchId { get; set; }
    public ImportBatch? Batch { get; private set; }
    /// <summary>Read from the batch row alone: the import may be running on another instance.</summary>
    public ImportJobState State { get; private set; }
    public List<ImportIssue> Issues { get; private set; } = [];
    public int IssueCount { get; private set; }

    public bool IsRunning => Batch is not null && State is ImportJobState.Queued or ImportJobState.Running;

    /// <summary>Not in the database: removed after its instance stopped, or a day after it failed.</summary>
    public bool IsGone => Batch is null;

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync())
        {
            // Still the page, with the reason, not a bare 404: an editor whose import was interrupted by a
            // restart lands here from the progress page and must learn that nothing was kept.
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        if (State == ImportJobState.Completed)
        {
            IssueCount = await db.ImportIssues.CountAsync(i => i.ImportBatchId == BatchId);
            Issues = await db.ImportIssues.AsNoTracking().Where(i => i.ImportBatchId == BatchId).OrderBy(i => i.Line).ThenBy(i => i.Id).Take(IssuesShown).ToListAsync();
        }
        return Page();
    }

    /// <summary>Polled by wwwroot/js/import-progress.js once a second.</summary>
    public async Task<IActionResult> OnGetProgressAsync()
    {
        if (!await LoadAsync()) return NotFound();
        var now = clock.GetUtcNow().UtcDateTime;
        var progress = ImportJobStates.Progress(Batch!, now);
        var running = State == ImportJobState.Running;
        var left = running ? progress.TimeLeft(now) : null;
        return new JsonResult(new
        {
            state = State.ToString().ToLowerInvariant(),
            rows = progress.Rows,
            rowsText = progress.Rows.ToString("N0", CultureInfo.CurrentCulture),
            rateText = (running ? progress.RowsPerSecond(now) : 0).ToString("N0", CultureInfo.CurrentCulture),
            leftText = left is { } l ? l.ToString(l.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture) : "–",
            percent = Math.Round(progress.Fraction * 100, 1),
        });
    }

    public async Task<IActionResult> OnPostCancelAsync()
    {
        if (!await LoadAsync()) return NotFound();
        // The instance running it (maybe another) reads this at its next lease renewal, within about a second; this
        // instance's own job stops at once.
        await db.ImportBatches.Of(NewsletterId, BatchId).Where(b => b.Status == ImportStatus.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.CancelRequested, true));
        queue.Cancel(BatchId, NewsletterId);
        return RedirectToPage(new { newsletterId = NewsletterId, batchId = BatchId });
    }

    /// <summary>Every row not imported, as CSV in the editor's language (formula-safe).</summary>
    public async Task<IActionResult> OnGetReportAsync(CancellationToken ct)
    {
        if (!await LoadAsync() || State != ImportJobState.Completed) return NotFound();
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = $"attachment; filename=\"import-{BatchId}-report.csv\"";
        await using var csv = SafeCsvWriter.ForStream(Response.Body);
        await csv.WriteRowAsync(text["Import_Line"], text["Import_Reason"], text["Import_Value"]);
        await foreach (var issue in db.ImportIssues.AsNoTracking().Where(i => i.ImportBatchId == BatchId).OrderBy(i => i.Line).ThenBy(i => i.Id).AsAsyncEnumerable().WithCancellation(ct))
            await csv.WriteRowAsync(issue.Line.ToString(CultureInfo.InvariantCulture), text["Reason_" + issue.Reason], issue.OriginalValue);
        await csv.FlushAsync();
        return new EmptyResult();
    }

    private async Task<bool> LoadAsync()
    {
        Batch = await db.ImportBatches.AsNoTracking().Of(NewsletterId, BatchId).SingleOrDefaultAsync();
        if (Batch is not null) State = ImportJobStates.Of(Batch, clock.GetUtcNow().UtcDateTime);
        return Batch is not null;
    }
}
