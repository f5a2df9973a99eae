using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

/// <summary>The live figures as JSON, polled by wwwroot/js/campaign-progress.js.</summary>
public sealed class ProgressModel(CampaignProgress progress, IStringLocalizer<SharedResource> text) : PageModel
{
    public async Task<IActionResult> OnGetAsync(int newsletterId, int id)
    {
        if (await progress.GetAsync(newsletterId, id) is not { } p) return NotFound();
        return new JsonResult(new
        {
            status = p.Status.ToString(),
            statusText = text["CampaignStatus_" + p.Status].Value,
            pauseReason = p.Status == CampaignStatus.Paused ? p.PauseReason : null,
            p.Recipients, p.Sent, p.Failed, p.Queued, notSent = p.Cancelled, p.Done, p.Percent, p.MessagesPerSecond,
            timeLeft = ReportModel.FormatTimeLeft(p.TimeLeft, text),
        });
    }
}
