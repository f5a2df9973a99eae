using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Admin.Privacy;

/// <summary>Data requests and STOP replies (role Admin): find by exact address or number, see the ledger, export, erase, suppress.</summary>
public sealed class SubscribersModel(SubscriberLookup lookup, DataExportService exports, ErasureService erasure, AppDbContext db,
    TimeProvider clock, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromQuery(Name = "q")] public string? Query { get; set; }
    public List<SubscriberLookup.Match> Matches { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync()
    {
        if (!string.IsNullOrWhiteSpace(Query)) Matches = await lookup.FindAsync(Query);
    }

    public async Task<IActionResult> OnPostExportAsync(Guid id)
    {
        var subscriber = await lookup.SubscriberAsync(id);
        if (subscriber is null) return NotFound();
        var json = await exports.ExportAsync(subscriber);
        db.Audit(User.Identity!.Name!, "export", $"subscriber {subscriber.Id} of newsletter {subscriber.NewsletterId}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        return File(json, "application/json", DataExportService.FileName(subscriber));
    }

    public async Task<IActionResult> OnPostEraseAsync(Guid id, bool confirm)
    {
        var subscriber = await lookup.SubscriberAsync(id);
        if (subscriber is null) return NotFound();
        if (!confirm)
        {
            Message = text["Privacy_EraseNeedsConfirm"];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        await erasure.EraseAsync(subscriber, WithdrawalChannel.Admin, User.Identity!.Name!);
        Message = text["Privacy_Erased"];
        return Page();
    }

    public async Task<IActionResult> OnPostEraseContactAsync(Guid id, bool confirm)
    {
        var contact = await lookup.ContactAsync(id);
        if (contact is null) return NotFound();
        if (!confirm)
        {
            Message = text["Privacy_EraseNeedsConfirm"];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        await erasure.EraseContactAsync(contact, User.Identity!.Name!);
        Message = text["Privacy_Erased"];
        return Page();
    }

    public async Task<IActionResult> OnPostSuppressAsync(string? value)
    {
        var region = await NewsletterMigrator.Newsletters.InstallationRegion.OfAsync(db);
        var outcome = await erasure.SuppressManuallyAsync(value ?? "", region, User.Identity!.Name!);
        Message = outcome switch
        {
            ErasureService.ManualSuppression.Added => text["Privacy_Suppressed"],
            ErasureService.ManualSuppression.AlreadyListed => text["Privacy_AlreadySuppressed"],
            _ => text["Privacy_SuppressInvalid"],
        };
        if (outcome == ErasureService.ManualSuppression.Invalid) Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
