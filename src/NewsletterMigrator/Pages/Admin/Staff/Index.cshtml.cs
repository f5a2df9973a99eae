using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.Staff;

/// <summary>The team: who has access, with which role and newsletters, and the invitation of a colleague. Admins only.</summary>
public sealed class IndexModel(StaffDirectory staff, AppDbContext db, IStringLocalizer<SharedResource> text) : PageModel
{
    public sealed record NewsletterChoice(int Id, string Name);

    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string Role { get; set; } = Roles.Editor;
    [BindProperty] public List<int> NewsletterIds { get; set; } = [];
    [BindProperty] public string? Language { get; set; }

    public List<StaffMember> Members { get; private set; } = [];
    public List<NewsletterChoice> Newsletters { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Language = Languages.Current;
        await LoadAsync(ct);
    }

    public async Task<IActionResult> OnPostInviteAsync(CancellationToken ct)
    {
        var (outcome, userId, errors) = await staff.InviteAsync(Email, Role, NewsletterIds, Language, User.Identity!.Name!, ct);
        switch (outcome)
        {
            case InvitationOutcome.Sent:
                TempData["Message"] = text["Staff_Invited", Email!.Trim()].Value;
                return RedirectToPage();
            case InvitationOutcome.MailFailed:
                // The account stays; its page says so and offers "send again".
                TempData["Error"] = text["Staff_InviteMailFailed"].Value;
                return RedirectToPage("Edit", new { id = userId });
        }
        if (outcome == InvitationOutcome.Refused)
        {
            foreach (var error in errors ?? []) ModelState.AddModelError(nameof(Email), error);
        }
        else ModelState.AddModelError(outcome == InvitationOutcome.InvalidAddress || outcome == InvitationOutcome.AlreadyStaff ? nameof(Email) : "", outcome switch
        {
            InvitationOutcome.InvalidAddress => text["SignUp_EmailInvalid"],
            InvitationOutcome.AlreadyStaff => text["Staff_AlreadyStaff"],
            InvitationOutcome.UnknownNewsletter => text["Staff_UnknownNewsletter"],
            _ => text["Staff_InvalidRole"],
        });
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Members = await staff.ListAsync(ct);
        Newsletters = await db.Newsletters.AsNoTracking().OrderBy(n => n.Name).Select(n => new NewsletterChoice(n.Id, n.Name)).ToListAsync(ct);
    }
}
