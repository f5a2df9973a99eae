using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account;

public sealed class LoginModel(SignInManager<IdentityUser> signIn, StaffAccounts accounts, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }

    public async Task<IActionResult> OnGetAsync() =>
        await accounts.AnyAsync() ? Page() : RedirectToPage("/Setup");

    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        if (string.IsNullOrWhiteSpace(Email) || string.IsNullOrEmpty(Password))
        {
            ModelState.AddModelError("", text["Login_Failed"]);
            return Page();
        }
        var result = await signIn.PasswordSignInAsync(Email.Trim(), Password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded) return LocalRedirect(LocalRedirectTarget.OrFallback(returnUrl, "/admin"));
        ModelState.AddModelError("", result.IsLockedOut ? text["Login_LockedOut"] : text["Login_Failed"]);
        return Page();
    }
}
