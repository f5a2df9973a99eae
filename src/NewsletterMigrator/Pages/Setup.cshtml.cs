using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages;

/// <summary>
/// First run: while no staff account exists, the holder of the console's setup code creates the first admin.
/// Guesses at the code count against the same per-IP limit as sign-in attempts.
/// </summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class SetupModel(StaffAccounts accounts, SetupCode setupCode, SignInManager<StaffUser> signIn,
    UserManager<StaffUser> users, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? Code { get; set; }
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }

    public async Task<IActionResult> OnGetAsync() => await accounts.AnyAsync() ? RedirectToPage("/Account/Login") : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (await accounts.AnyAsync()) return RedirectToPage("/Account/Login");
        if (!setupCode.Matches(Code)) ModelState.AddModelError(nameof(Code), text["Setup_WrongCode"]);
        if (!EmailAddress.TryNormalize(Email, out var email)) ModelState.AddModelError(nameof(Email), text["SignUp_EmailInvalid"]);
        if (string.IsNullOrEmpty(Password) || Password.Length < 12) ModelState.AddModelError(nameof(Password), text["Setup_PasswordHint"]);
        if (!ModelState.IsValid) return Page();

        var result = await accounts.CreateAsync(email, Password!, Roles.Admin, "first-run setup");
        if (!result.Succeeded)
        {
            foreach (var error in result.Errors) ModelState.AddModelError("", error.Description);
            return Page();
        }
        await signIn.SignInAsync((await users.FindByEmailAsync(email))!, isPersistent: false);
        return Redirect("/admin");
    }
}
