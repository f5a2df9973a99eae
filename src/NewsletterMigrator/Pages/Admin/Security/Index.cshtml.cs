using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.Security;

/// <summary>Admins choose who must sign in with a second factor (issue 15); the choice is audited.</summary>
public sealed class IndexModel(StaffSecurityPolicies policies, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public TwoFactorRequirement? RequireTwoFactor { get; set; }

    public async Task OnGetAsync() => RequireTwoFactor = await policies.TwoFactorRequirementAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        // An unknown value (a number beyond the choices, a word) changes nothing.
        if (RequireTwoFactor is not { } requirement || !Enum.IsDefined(requirement))
        {
            ModelState.Clear();
            ModelState.AddModelError(nameof(RequireTwoFactor), text["StaffSecurity_ChooseOne"]);
            RequireTwoFactor = await policies.TwoFactorRequirementAsync();
            return Page();
        }
        await policies.SetTwoFactorRequirementAsync(requirement, User.Identity!.Name!);
        TempData["Message"] = text["StaffSecurity_Saved"].Value;
        return RedirectToPage();
    }
}
