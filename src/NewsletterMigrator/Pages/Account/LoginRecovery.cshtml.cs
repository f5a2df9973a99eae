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

/// <summary>Sign-in step 2 without the phone: one of the ten recovery codes, each good once (<see cref="StaffSignInManager"/> counts wrong ones).</summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class LoginRecoveryModel(SignInManager<StaffUser> signIn, IOptions<StaffSignInOptions> options, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? RecoveryCode { get; set; }

    public async Task<IActionResult> OnGetAsync() =>
        await signIn.GetTwoFactorAuthenticationUserAsync() is null ? RedirectToPage("/Account/Login") : Page();

    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is null) return RedirectToPage("/Account/Login");
        // As typed: the store ignores case, spaces and dashes (ProtectedUserStore.Canonical).
        var result = await signIn.TwoFactorRecoveryCodeSignInAsync(RecoveryCode ?? "");
        if (result.Succeeded) return LocalRedirect(LocalRedirectTarget.OrFallback(returnUrl, "/admin"));
        return LoginCodeModel.CodeFailed(this, options.Value, text);
    }
}
