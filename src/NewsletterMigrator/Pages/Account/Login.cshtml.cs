using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account;

[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class LoginModel(SignInManager<StaffUser> signIn, StaffAccounts accounts, IOptions<StaffSignInOptions> options,
    IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }

    public async Task<IActionResult> OnGetAsync() =>
        await accounts.AnyAsync() ? Page() : RedirectToPage("/Setup");

    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        if (string.IsNullOrWhiteSpace(Email) || string.IsNullOrEmpty(Password)) return Failed();
        var result = await signIn.PasswordSignInAsync(Email.Trim(), Password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded) return LocalRedirect(LocalRedirectTarget.OrFallback(returnUrl, "/admin"));
        // Only the right password of an account that may sign in gets here; the code page holds the account in its own cookie.
        if (result.RequiresTwoFactor) return RedirectToPage("/Account/LoginCode", new { returnUrl = LocalRedirectTarget.OrFallback(returnUrl, "/admin") });
        // IsLockedOut, IsNotAllowed and a wrong password or unknown address: one answer (see Failed).
        return Failed();
    }

    /// <summary>
    /// One answer for a wrong password, an unknown address and a locked account (issue 13): it explains
    /// the lockout without saying whether it hit an account. Counting failures for unknown addresses
    /// instead, to show them a lockout too, would need a row per address an attacker types (a table he
    /// fills at will) and would still differ from a real account once he knows one password; the per-IP
    /// limit already bounds guessing.
    /// </summary>
    private PageResult Failed()
    {
        var lockout = options.Value;
        ModelState.AddModelError("", text["Login_Failed"]);
        ModelState.AddModelError("", text["Login_LockoutExplained", lockout.LockoutAfterFailures, StaffSignInOptions.Minutes(lockout.LockoutDuration)]);
        return Page();
    }
}
