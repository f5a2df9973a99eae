using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.Campaigns;

/// <summary>
/// Withdraws a sent issue from the public archive, or restores it (issue 21), posted from the campaign's report page
/// (<see cref="ArchiveIssueViewComponent"/>). Admins only: it changes what the newsletter publishes.
/// </summary>
[Authorize(Roles = Roles.Admin)]
public sealed class ArchiveModel(ArchiveService archive, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public int Id { get; set; }

    /// <summary>Nothing of its own to show: its address leads to the campaign's report, where the archive section is.</summary>
    public async Task<IActionResult> OnGetAsync([FromServices] AppDbContext db) =>
        await db.Campaigns.Of(NewsletterId, Id).AnyAsync()
            ? RedirectToPage("Report", null, new { newsletterId = NewsletterId, id = Id }, "archive")
            : NotFound();

    public Task<IActionResult> OnPostWithdrawAsync() => ActAsync(withdraw: true);

    public Task<IActionResult> OnPostRestoreAsync() => ActAsync(withdraw: false);

    private async Task<IActionResult> ActAsync(bool withdraw)
    {
        var user = User.Identity!.Name!;
        var outcome = withdraw ? await archive.WithdrawAsync(NewsletterId, Id, user) : await archive.RestoreAsync(NewsletterId, Id, user);
        if (outcome == WithdrawOutcome.NotFound) return NotFound();
        TempData["Message"] = text[outcome switch
        {
            WithdrawOutcome.NotArchived => "Archive_NotArchived",
            _ when withdraw => "Archive_WithdrawnDone",
            _ => "Archive_RestoredDone",
        }].Value;
        return RedirectToPage("Report", null, new { newsletterId = NewsletterId, id = Id }, "archive");
    }
}
