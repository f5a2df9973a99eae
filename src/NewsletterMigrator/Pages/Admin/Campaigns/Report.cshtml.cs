using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Campaigns;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

/// <summary>Progress while sending (pause, resume, cancel) and the report afterwards.</summary>
public sealed class ReportModel(CampaignService campaigns, CampaignProgress progress, CampaignDeliverability deliverability,
    IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public int Id { get; set; }
    public string Subject { get; private set; } = "";
    public DateTime? ScheduledForUtc { get; private set; }
    public CampaignProgress.Snapshot? Snapshot { get; private set; }
    public List<CampaignProgress.FailureGroup> Failures { get; private set; } = [];
    /// <summary>Counts per day that name no reader (C26).</summary>
    public CampaignDeliverability.Report Delivery { get; private set; } = new([], CampaignDeliverability.Counts.None);

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnGetCsvAsync()
    {
        return await progress.FailuresCsvAsync(NewsletterId, Id) is { } csv ? File(csv, "text/csv; charset=utf-8", $"campaign-{Id}-failures.csv") : NotFound();
    }

    public Task<IActionResult> OnPostPauseAsync() => ActAsync(() => campaigns.PauseAsync(NewsletterId, Id, User.Identity!.Name!));

    public Task<IActionResult> OnPostResumeAsync() => ActAsync(() => campaigns.ResumeAsync(NewsletterId, Id, User.Identity!.Name!));

    public async Task<IActionResult> OnPostCancelAsync(bool confirmCancel)
    {
        if (confirmCancel) return await ActAsync(() => campaigns.CancelAsync(NewsletterId, Id, User.Identity!.Name!));
        if (!await LoadAsync()) return NotFound();
        ModelState.AddModelError("", text["Campaign_ConfirmRequired"]);
        return Page();
    }

    private async Task<IActionResult> ActAsync(Func<Task> action)
    {
        if (!await LoadAsync()) return NotFound();
        try
        {
            await action();
        }
        catch (InvalidOperationException)
        {
            ModelState.AddModelError("", text["Campaign_ActionFailed"]);
            await LoadAsync();
            return Page();
        }
        return RedirectToPage(new { newsletterId = NewsletterId, id = Id });
    }

    private async Task<bool> LoadAsync()
    {
        var campaign = await campaigns.FindAsync(NewsletterId, Id);
        if (campaign is null) return false;
        Subject = campaign.Subject;
        ScheduledForUtc = campaign.ScheduledForUtc;
        Snapshot = await progress.GetAsync(NewsletterId, Id);
        Failures = await progress.FailuresAsync(NewsletterId, Id);
        Delivery = await deliverability.ForAsync(NewsletterId, Id) ?? Delivery;
        return true;
    }

    public static string FormatTimeLeft(TimeSpan? left, IStringLocalizer text) => left switch
    {
        null => text["Campaign_TimeUnknown"],
        { TotalHours: >= 1 } t => $"{(int)t.TotalHours} h {t.Minutes:D2} min",
        { TotalMinutes: >= 1 } t => $"{t.Minutes} min {t.Seconds:D2} s",
        var t => $"{t.Value.Seconds} s",
    };
}
