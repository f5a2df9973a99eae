using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.WhatsApp;

/// <summary>
/// Invitations through the WhatsApp Business Platform: queue the approved template once per reader, watch the states, the
/// daily budget and its forecast, the refusals by Meta's code; admins pause and resume the whole queue.
/// </summary>
public sealed class IndexModel(AppDbContext db, WhatsAppInvitations whatsApp, InvitationQueue queue, InvitationLinks links,
    WhatsAppForecasts forecasts, WhatsAppAccounts accounts,
    Microsoft.Extensions.Options.IOptions<WhatsAppOptions> options, IStringLocalizer<SharedResource> text) : PageModel
{
    /// <summary>What <see cref="WhatsAppAccounts.PauseAsync"/> keeps of a reason; a longer one is refused, not cut.</summary>
    public const int PauseReasonMaxLength = 500;

    public sealed record Failure(string? Name, string? Error);

    /// <summary>One body parameter of the approved template: its position, what it is, and this newsletter's value (C41).</summary>
    public sealed record TemplateParameter(int Number, string Name, string Example);

    [FromRoute] public int NewsletterId { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? Resend { get; set; }
    [BindProperty] public int? Import { get; set; }
    [BindProperty] public string? Reason { get; set; }
    [BindProperty] public string? PauseReason { get; set; }

    public Newsletter Newsletter { get; private set; } = null!;
    public bool Enabled => whatsApp.Enabled;
    public InvitationGate Gate { get; private set; }
    public Dictionary<WhatsAppStatus, int> Counts { get; private set; } = [];
    public List<Failure> Failures { get; private set; } = [];
    public List<SelectListItem> Imports { get; private set; } = [];
    public string? ResendName { get; private set; }
    public string? TemplateName => options.Value.TemplateName;
    public string TemplateLanguage => options.Value.TemplateLanguage;
    public List<TemplateParameter> TemplateParameters { get; private set; } = [];
    public string SuggestedBody { get; private set; } = "";
    /// <summary>The budget and when the queue would finish; null while the Cloud API is not set up.</summary>
    public WhatsAppForecast? Forecast { get; private set; }
    public WhatsAppPauseBanner? PauseBanner { get; private set; }
    public bool Paused => PauseBanner?.Account.PausedAtUtc is not null;
    public IReadOnlyList<WhatsAppErrorCount> ErrorCounts { get; private set; } = [];
    /// <summary>This newsletter's contacts Meta reported as not on WhatsApp (131026), for the export to another channel.</summary>
    public int NotOnWhatsApp { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return NotFound();
        return Page();
    }

    public async Task<IActionResult> OnPostQueueAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return NotFound();
        if (!Enabled || Gate != InvitationGate.Open)
        {
            ModelState.AddModelError("", !Enabled ? text["WhatsApp_Disabled"] : text[InvitationQueue.MessageKey(Gate)]);
            return Page();
        }
        if (await whatsApp.EnqueueAllAsync(Newsletter, Import, User.Identity!.Name!, ct) is not { } queued) return NotFound();
        TempData["Message"] = text["WhatsApp_Queued", queued].Value;
        return RedirectToPage(new { NewsletterId });
    }

    public async Task<IActionResult> OnPostResendAsync(CancellationToken ct)
    {
        if (!User.IsInRole(Roles.Admin)) return Forbid();
        if (!await LoadAsync(ct)) return NotFound();
        var outcome = Resend is { } id ? await whatsApp.ResendAsync(NewsletterId, id, Reason, User.Identity!.Name!, ct) : ResendOutcome.NotFound;
        if (outcome == ResendOutcome.NotFound && Resend is not null) return NotFound();
        if (outcome == ResendOutcome.Queued)
        {
            TempData["Message"] = text["WhatsApp_Resent"].Value;
            return RedirectToPage(new { NewsletterId });
        }
        ModelState.AddModelError(nameof(Reason), outcome switch
        {
            ResendOutcome.ReasonMissing => text["WhatsApp_ReasonRequired"],
            ResendOutcome.NoNumber => text["WhatsApp_NoNumber"],
            ResendOutcome.AlreadyQueued => text["WhatsApp_AlreadyQueued"],
            ResendOutcome.Closed => !Enabled ? text["WhatsApp_Disabled"] : text[InvitationQueue.MessageKey(Gate)],
            _ => text["WhatsApp_UnknownContact"],
        });
        return Page();
    }

    /// <summary>
    /// "Versand fortsetzen": admins only; the service audits it and counts objections afresh from now. While Meta rates the
    /// number RED it refuses, and the page says why: the queue goes on by itself once the rating leaves RED.
    /// </summary>
    public async Task<IActionResult> OnPostResumeAsync(CancellationToken ct)
    {
        if (!User.IsInRole(Roles.Admin)) return Forbid();
        // Like every handler here: a form value naming another newsletter's import or contact finds nothing.
        if (!await LoadAsync(ct)) return NotFound();
        var outcome = await accounts.ResumeAsync(User.Identity!.Name!, ct);
        if (outcome == ResumeOutcome.StillRed)
        {
            ModelState.AddModelError("", text["WaPause_StillRed"].Value);
            return Page();
        }
        TempData["Message"] = text[outcome == ResumeOutcome.Resumed ? "WaScale_Resumed" : "WaScale_NotPaused"].Value;
        return RedirectToPage(new { NewsletterId });
    }

    /// <summary>
    /// An admin stops the whole queue by hand, with a reason that the banner shows and the audit log keeps. A pause that
    /// came first (a webhook a moment ago, another admin) stays with its own reason, and the page says which.
    /// </summary>
    public async Task<IActionResult> OnPostPauseAsync(CancellationToken ct)
    {
        if (!User.IsInRole(Roles.Admin)) return Forbid();
        if (!await LoadAsync(ct)) return NotFound();
        var reason = PauseReason?.Trim() ?? "";
        var error = reason.Length == 0 ? text["WaScale_PauseReasonRequired"]
            : reason.Length > PauseReasonMaxLength ? text["WaScale_PauseReasonTooLong", PauseReasonMaxLength]
            : null;
        if (error is not null)
        {
            ModelState.AddModelError(nameof(PauseReason), error.Value);
            return Page();
        }
        if (!await accounts.PauseAsync(WhatsAppPause.Manual, reason, User.Identity!.Name!, ct))
        {
            // The page as it stands now, with the pause that holds the queue.
            await LoadAsync(ct);
            var standing = PauseBanner!.Account;
            var why = WhatsAppStateText.PauseKind(standing.PauseKind, text) + (string.IsNullOrEmpty(standing.PauseDetail) ? "" : ": " + standing.PauseDetail);
            ModelState.AddModelError(nameof(PauseReason), text["WaPause_AlreadyPaused", why].Value);
            return Page();
        }
        TempData["Message"] = text["WaScale_PausedByHand"].Value;
        return RedirectToPage(new { NewsletterId });
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId, ct);
        if (newsletter is null) return false;
        // The import and the contact a form carries are this newsletter's, or there is nothing to show or do.
        if (Import is { } import && !await db.ImportBatches.Of(NewsletterId, import).AnyAsync(ct)) return false;
        var resend = Resend is { } id ? await db.Contacts.AsNoTracking().Of(NewsletterId, id).SingleOrDefaultAsync(ct) : null;
        if (Resend is not null && resend is null) return false;
        Newsletter = newsletter;
        Gate = queue.Gate(newsletter);
        var parameters = WhatsAppTemplate.Parameters(options.Value.TemplateParameters);
        var examples = WhatsAppTemplate.Values(parameters, InvitationSender.Of(newsletter), links.SampleLink());
        TemplateParameters = [.. parameters.Select((p, i) => new TemplateParameter(i + 1, p, examples[i]))];
        SuggestedBody = WhatsAppTemplate.SuggestedBody(parameters, newsletter, TemplateLanguage);
        Counts = await db.WhatsAppMessages.Where(m => m.NewsletterId == NewsletterId).GroupBy(m => m.Status)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        Failures = await db.WhatsAppMessages.Where(m => m.NewsletterId == NewsletterId && m.Status == WhatsAppStatus.Failed)
            .OrderByDescending(m => m.Id).Take(20)
            .Select(m => new Failure(db.Contacts.Where(c => c.Id == m.ContactId).Select(c => c.DisplayName).FirstOrDefault(), m.LastError))
            .ToListAsync(ct);
        // A failed import is kept, emptied, only so that its page says why; it has no contacts to offer.
        Imports = await db.ImportBatches.AsNoTracking().Where(b => b.NewsletterId == NewsletterId && b.Status != ImportStatus.Failed).OrderBy(b => b.Id)
            .Select(b => new SelectListItem($"#{b.Id} {b.FileName}", b.Id.ToString())).ToListAsync(ct);
        if (resend is not null && User.IsInRole(Roles.Admin)) ResendName = resend.DisplayName ?? "–";
        Forecast = Enabled ? await forecasts.ForAsync(newsletter, ct) : null;
        PauseBanner = new WhatsAppPauseBanner(Forecast?.Account ?? await accounts.GetAsync(ct), ResumeHere: true);
        ErrorCounts = await forecasts.ErrorCountsAsync(NewsletterId, ct);
        NotOnWhatsApp = await db.Contacts.CountAsync(c => c.NewsletterId == NewsletterId && c.NotOnWhatsAppAtUtc != null, ct);
        return true;
    }
}
