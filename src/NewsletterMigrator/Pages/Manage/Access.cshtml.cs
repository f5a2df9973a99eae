using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Manage;

/// <summary>Opened only through the short-lived link mailed to the subscribed address (C33): export, change of address, erasure (C14).</summary>
public sealed class AccessModel(ManageService manage, DataExportService exports, ErasureService erasure, AppDbContext db,
    IStringLocalizer<SharedResource> text) : PageModel
{
    public Subscriber? Subscriber { get; private set; }
    public string NewsletterName { get; private set; } = "";
    public string? Message { get; private set; }
    public bool ConfirmErase { get; private set; }
    public bool Erased { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token)
    {
        await LoadAsync(token);
        return Page();
    }

    public async Task<IActionResult> OnPostExportAsync(string token)
    {
        if (!await LoadAsync(token)) return Page();
        var json = await exports.ExportAsync(Subscriber!);
        return File(json, "application/json", DataExportService.FileName(Subscriber!));
    }

    public async Task<IActionResult> OnPostChangeAsync(string token, string? newEmail)
    {
        if (!await LoadAsync(token)) return Page();
        var outcome = await manage.RequestAddressChangeAsync(Subscriber!, newEmail ?? "",
            HttpContext.Connection.RemoteIpAddress?.ToString(), Request.Headers.UserAgent.ToString());
        Message = outcome switch
        {
            AddressChangeOutcome.Queued => text["Access_ChangeSent"],
            AddressChangeOutcome.SameAddress => text["Access_ChangeSame"],
            _ => text["Access_ChangeInvalid"],
        };
        if (outcome != AddressChangeOutcome.Queued) Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>The one confirmation step before erasure.</summary>
    public async Task<IActionResult> OnPostEraseAsync(string token)
    {
        if (!await LoadAsync(token)) return Page();
        ConfirmErase = true;
        return Page();
    }

    public async Task<IActionResult> OnPostEraseConfirmedAsync(string token)
    {
        if (!await LoadAsync(token)) return Page();
        await erasure.EraseAsync(Subscriber!, WithdrawalChannel.Link, staffUser: null);
        Subscriber = null;
        Erased = true;
        return Page();
    }

    private async Task<bool> LoadAsync(string token)
    {
        Subscriber = await manage.FindByAccessTokenAsync(token);
        if (Subscriber is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        NewsletterName = (await this.ShowNewsletterAsync(db, Subscriber.NewsletterId)).Name;
        return true;
    }
}
