using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

public sealed class EditModel(AppDbContext db, CampaignService campaigns, IStringLocalizer<SharedResource> text, TimeProvider clock) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public int? Id { get; set; }
    [BindProperty] public CampaignInput Input { get; set; } = new();
    public CampaignStatus Status { get; private set; } = CampaignStatus.Draft;
    public int Recipients { get; private set; }
    public int ConfirmedCount { get; private set; }
    /// <summary>The addresses a test mail may go to (C45), offered as a choice so nobody types one.</summary>
    public IReadOnlyList<string> TestTargets { get; private set; } = [];
    /// <summary>Ticked in the form: the editor's own address at first, what was sent after a refusal.</summary>
    public IReadOnlyCollection<string> SelectedTestAddresses { get; private set; } = [];
    public string? ScheduleAt { get; private set; }
    public DateTime? ScheduledForUtc { get; private set; }
    /// <summary>The feed a campaign was made from (its title or address), null for one an editor wrote.</summary>
    public string? FromFeed { get; private set; }
    public bool Breaking { get; private set; }
    /// <summary>Sanitised HTML (Markdig + HtmlSanitizer), safe to embed.</summary>
    public string PreviewHtml { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostSaveAsync()
    {
        // Before the form is checked: another newsletter's campaign is not there to be edited, also not with an empty subject.
        if (!await db.Newsletters.AnyAsync(n => n.Id == NewsletterId)) return NotFound();
        if (Id is { } existing && await campaigns.FindAsync(NewsletterId, existing) is null) return NotFound();
        if (string.IsNullOrWhiteSpace(Input.Subject)) ModelState.AddModelError("Input.Subject", text["Campaign_SubjectRequired"]);
        if (!ModelState.IsValid)
        {
            PreviewHtml = MarkdownRenderer.ToHtml(Input.Body ?? "");
            return Page();
        }
        try
        {
            var id = await campaigns.SaveDraftAsync(NewsletterId, Id, Input.Subject!.Trim(), Input.Preheader?.Trim() ?? "", Input.Body ?? "", User.Identity!.Name!);
            if (id is null) return NotFound();
            TempData["Message"] = text["Saved"].Value;
            return RedirectToPage(new { newsletterId = NewsletterId, id });
        }
        catch (InvalidOperationException)
        {
            ModelState.AddModelError("", text["Campaign_NotEditable"]);
            await LoadAsync();
            return Page();
        }
    }

    public async Task<IActionResult> OnPostTestAsync(string[]? testAddresses)
    {
        if (!await LoadAsync()) return NotFound();
        var addresses = (testAddresses ?? []).SelectMany(a => a.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries)).ToList();
        var result = await campaigns.SendTestAsync(NewsletterId, Id!.Value, addresses, User.Identity!.Name!);
        if (result.Outcome == TestSendOutcome.NotFound) return NotFound();
        if (result.Outcome != TestSendOutcome.Queued)
        {
            SelectedTestAddresses = addresses;
            ModelState.AddModelError("", result.Outcome == TestSendOutcome.NotAllowed
                ? text["Campaign_TestNotAllowed", string.Join(", ", result.Refused)]
                : text["Campaign_TestInvalid"]);
            return Page();
        }
        TempData["Message"] = text["Campaign_TestQueued", result.Queued].Value;
        return RedirectToPage(new { newsletterId = NewsletterId, id = Id });
    }

    public async Task<IActionResult> OnPostSendAsync(bool confirmSend)
    {
        if (!await LoadAsync()) return NotFound();
        if (!confirmSend)
        {
            ModelState.AddModelError("", text["Campaign_ConfirmRequired"]);
            return Page();
        }
        return await StartAndReportAsync(async () => await campaigns.StartAsync(NewsletterId, Id!.Value, User.Identity!.Name!));
    }

    /// <summary>A feed's draft goes out with one click: the editor has read it on this page (issue 19).</summary>
    public async Task<IActionResult> OnPostApproveAsync()
    {
        if (Id is null || !await LoadAsync()) return NotFound();
        if (FromFeed is null)
        {
            ModelState.AddModelError("", text["Campaign_ApproveOnlyFeedDrafts"]);
            return Page();
        }
        return await StartAndReportAsync(() => campaigns.ApproveFeedDraftAsync(NewsletterId, Id.Value, User.Identity!.Name!));
    }

    /// <summary>Starts the campaign and shows its report; null from <paramref name="start"/>: there is no such campaign to start.</summary>
    private async Task<IActionResult> StartAndReportAsync(Func<Task<int?>> start)
    {
        try
        {
            if (await start() is not { } count) return NotFound();
            TempData["Message"] = text["Campaign_Started", count].Value;
        }
        catch (NewsletterMigrator.Newsletters.LegalIdentityIncompleteException)
        {
            ModelState.AddModelError("", text["Legal_CampaignNotOpen"]);
            return Page();
        }
        catch (InvalidOperationException)
        {
            TempData["Message"] = text["Campaign_NotEditable"].Value;
        }
        return RedirectToPage("Report", new { newsletterId = NewsletterId, id = Id });
    }

    /// <summary>The editor enters Berlin time (datetime-local carries no zone); it is stored in UTC.</summary>
    public async Task<IActionResult> OnPostScheduleAsync(string? scheduleAt)
    {
        if (!await LoadAsync()) return NotFound();
        if (!DateTime.TryParseExact(scheduleAt, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.None, out var local) || Berlin.ToUtc(local) <= clock.GetUtcNow().UtcDateTime)
        {
            ScheduleAt = scheduleAt;
            ModelState.AddModelError("", text["Campaign_ScheduleInvalid"]);
            return Page();
        }
        try
        {
            await campaigns.ScheduleAsync(NewsletterId, Id!.Value, Berlin.ToUtc(local), User.Identity!.Name!);
            TempData["Message"] = text["Campaign_ScheduledFor", local.ToString("dd.MM.yyyy HH:mm")].Value;
        }
        catch (NewsletterMigrator.Newsletters.LegalIdentityIncompleteException)
        {
            ScheduleAt = scheduleAt;
            ModelState.AddModelError("", text["Legal_CampaignNotOpen"]);
            return Page();
        }
        catch (InvalidOperationException)
        {
            TempData["Message"] = text["Campaign_NotEditable"].Value;
        }
        return RedirectToPage(new { newsletterId = NewsletterId, id = Id });
    }

    public async Task<IActionResult> OnPostUnscheduleAsync()
    {
        if (!await LoadAsync()) return NotFound();
        try { await campaigns.UnscheduleAsync(NewsletterId, Id!.Value, User.Identity!.Name!); }
        catch (InvalidOperationException) { TempData["Message"] = text["Campaign_ActionFailed"].Value; }
        return RedirectToPage(new { newsletterId = NewsletterId, id = Id });
    }

    private async Task<bool> LoadAsync()
    {
        if (!await db.Newsletters.AnyAsync(n => n.Id == NewsletterId)) return false;
        ConfirmedCount = await db.Subscribers.CountAsync(s => s.NewsletterId == NewsletterId && s.Status == SubscriberStatus.Confirmed);
        if (Id is null) return true;
        var campaign = await campaigns.FindAsync(NewsletterId, Id.Value);
        if (campaign is null) return false;
        TestTargets = await campaigns.TestTargetsAsync(NewsletterId);
        SelectedTestAddresses = TestTargets.Where(a => string.Equals(a, User.Identity?.Name, StringComparison.OrdinalIgnoreCase)).ToList();
        Input = new CampaignInput { Subject = campaign.Subject, Preheader = campaign.Preheader, Body = campaign.BodyMarkdown };
        Status = campaign.Status;
        Recipients = campaign.RecipientCount;
        ScheduledForUtc = campaign.ScheduledForUtc;
        Breaking = campaign.Breaking;
        if (campaign.FeedId is { } feedId)
            FromFeed = await db.Feeds.Where(f => f.Id == feedId).Select(f => f.Title ?? f.Url).SingleOrDefaultAsync() ?? "";
        PreviewHtml = campaign.BodyHtml ?? MarkdownRenderer.ToHtml(campaign.BodyMarkdown);
        return true;
    }
}

public sealed class CampaignInput
{
    [StringLength(200)] public string? Subject { get; set; }
    [StringLength(200)] public string? Preheader { get; set; }
    public string? Body { get; set; }
}
