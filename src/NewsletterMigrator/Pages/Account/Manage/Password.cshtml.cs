using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account.Manage;

/// <summary>Password change for the signed-in member; a wrong current password counts like a wrong sign-in.</summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class PasswordModel(UserManager<StaffUser> users, SignInManager<StaffUser> signIn, OwnAccount account,
    IOptions<StaffSignInOptions> options, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? CurrentPassword { get; set; }
    [BindProperty] public string? NewPassword { get; set; }
    [BindProperty] public string? ConfirmPassword { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        if (string.IsNullOrEmpty(CurrentPassword)) ModelState.AddModelError(nameof(CurrentPassword), text["OwnPassword_CurrentMissing"]);
        if (string.IsNullOrEmpty(NewPassword)) ModelState.AddModelError(nameof(NewPassword), text["Setup_PasswordHint"]);
        else if (NewPassword != ConfirmPassword) ModelState.AddModelError(nameof(ConfirmPassword), text["OwnPassword_Mismatch"]);
        if (!ModelState.IsValid) return Page();

        var (result, errors) = await account.ChangePasswordAsync(user, CurrentPassword!, NewPassword!);
        switch (result)
        {
            case PasswordChangeResult.Changed:
                await signIn.RefreshSignInAsync(user); // the new security stamp signs out the other browsers, not this one
                TempData["Message"] = text["OwnPassword_Changed"].Value;
                return RedirectToPage();
            case PasswordChangeResult.WrongPassword:
            case PasswordChangeResult.LockedOut:
                var lockout = options.Value;
                ModelState.AddModelError(nameof(CurrentPassword), text["OwnPassword_CurrentWrong"]);
                ModelState.AddModelError("", text["Login_LockoutExplained", lockout.LockoutAfterFailures, StaffSignInOptions.Minutes(lockout.LockoutDuration)]);
                return Page();
            default:
                foreach (var error in errors) ModelState.AddModelError(nameof(NewPassword), error.Description);
                return Page();
        }
    }
}
