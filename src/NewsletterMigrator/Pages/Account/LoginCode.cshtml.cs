using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account;

/// <summary>
/// Sign-in step 2 (issue 15): the 6-digit code from the authenticator app, for the account whose password was right
/// (Identity keeps it in the short-lived nm.2fa cookie). A wrong code counts towards the lockout like a wrong password.
/// </summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class LoginCodeModel(SignInManager<StaffUser> signIn, IOptions<StaffSignInOptions> options, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? Code { get; set; }
    [BindProperty] public bool RememberBrowser { get; set; }

    public int RememberDays => (int)StaffIdentitySetup.TwoFactorRememberBrowser.TotalDays;

    public async Task<IActionResult> OnGetAsync() =>
        await signIn.GetTwoFactorAuthenticationUserAsync() is null ? RedirectToPage("/Account/Login") : Page();

    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is null) return RedirectToPage("/Account/Login");
        var result = await signIn.TwoFactorAuthenticatorSignInAsync(StaffTwoFactor.NormalizeCode(Code), isPersistent: false, rememberClient: RememberBrowser);
        if (result.Succeeded) return LocalRedirect(LocalRedirectTarget.OrFallback(returnUrl, "/admin"));
        return CodeFailed(this, options.Value, text);
    }

    /// <summary>One answer for a wrong, expired or already used code and a locked account, with the lockout explained.</summary>
    internal static PageResult CodeFailed(PageModel page, StaffSignInOptions lockout, IStringLocalizer<SharedResource> text)
    {
        page.ModelState.AddModelError("", text["TwoFactor_CodeFailed"]);
        page.ModelState.AddModelError("", text["Login_LockoutExplained", lockout.LockoutAfterFailures, StaffSignInOptions.Minutes(lockout.LockoutDuration)]);
        return page.Page();
    }
}
