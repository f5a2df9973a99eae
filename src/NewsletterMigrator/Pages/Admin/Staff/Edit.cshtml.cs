using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.Staff;

/// <summary>One colleague: role and newsletters, deactivate or reactivate, reset two-factor, send the invitation again. Admins only.</summary>
public sealed class EditModel(StaffDirectory staff, AppDbContext db, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public Guid Id { get; set; }
    [BindProperty] public string Role { get; set; } = Roles.Editor;
    [BindProperty] public List<int> NewsletterIds { get; set; } = [];

    public StaffMember Member { get; private set; } = null!;
    public List<IndexModel.NewsletterChoice> Newsletters { get; private set; } = [];
    public bool IsSelf => string.Equals(Member.Email, User.Identity?.Name, StringComparison.OrdinalIgnoreCase);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return NotFound();
        Role = Member.Role;
        NewsletterIds = [.. Member.NewsletterIds];
        return Page();
    }

    public Task<IActionResult> OnPostAccessAsync(CancellationToken ct) =>
        ApplyAsync(staff.ChangeAccessAsync(Key, Role, NewsletterIds, By, ct), "Staff_AccessChanged", ct);

    public Task<IActionResult> OnPostDeactivateAsync(CancellationToken ct) => ApplyAsync(staff.DeactivateAsync(Key, By, ct), "Staff_DeactivatedDone", ct);

    public Task<IActionResult> OnPostReactivateAsync(CancellationToken ct) => ApplyAsync(staff.ReactivateAsync(Key, By, ct), "Staff_ReactivatedDone", ct);

    public Task<IActionResult> OnPostResetTwoFactorAsync(CancellationToken ct) => ApplyAsync(staff.ResetTwoFactorAsync(Key, By, ct), "Staff_TwoFactorResetDone", ct);

    public async Task<IActionResult> OnPostResendAsync(CancellationToken ct)
    {
        switch (await staff.ResendInvitationAsync(Key, By, ct))
        {
            case InvitationOutcome.NotFound:
                return NotFound();
            case InvitationOutcome.Sent:
                TempData["Message"] = text["Staff_InvitationResent"].Value;
                break;
            case InvitationOutcome.AlreadyAccepted:
                TempData["Error"] = text["Staff_AlreadyAccepted"].Value;
                break;
            case InvitationOutcome.Deactivated:
                TempData["Error"] = text["Staff_ResendDeactivated"].Value;
                break;
            default:
                TempData["Error"] = text["Staff_InviteMailFailed"].Value;
                break;
        }
        return RedirectToPage(new { id = Id });
    }

    private async Task<IActionResult> ApplyAsync(Task<StaffChange> change, string doneKey, CancellationToken ct)
    {
        var outcome = await change;
        if (outcome == StaffChange.NotFound) return NotFound();
        if (outcome == StaffChange.Done)
        {
            TempData["Message"] = text[doneKey].Value;
            return RedirectToPage(new { id = Id });
        }
        ModelState.AddModelError("", outcome switch
        {
            StaffChange.LastAdmin => text["Staff_LastAdmin"],
            StaffChange.UnknownNewsletter => text["Staff_UnknownNewsletter"],
            StaffChange.InvitationPending => text["Staff_TwoFactorResetPending"],
            _ => text["Staff_InvalidRole"],
        });
        Response.StatusCode = StatusCodes.Status409Conflict;
        if (!await LoadAsync(ct)) return NotFound();
        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        if (await staff.GetAsync(Key, ct) is not { } member) return false;
        Member = member;
        Newsletters = await db.Newsletters.AsNoTracking().OrderBy(n => n.Name).Select(n => new IndexModel.NewsletterChoice(n.Id, n.Name)).ToListAsync(ct);
        return true;
    }

    private string Key => Id.ToString();
    private string By => User.Identity!.Name!;
}
