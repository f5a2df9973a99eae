using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using NewsletterMigrator.Common;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account;

/// <summary>
/// "Forgot password": one answer for every address, given at once; the mail, if any, goes out in the background
/// (<see cref="PasswordResetMailer"/>), so neither the answer nor its timing tells whether the address is staff.
/// </summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class ForgotPasswordModel(PasswordResetMailer mailer) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    public bool Requested { get; private set; }

    public void OnGet()
    {
    }

    public IActionResult OnPost()
    {
        if (EmailAddress.TryNormalize(Email, out var address)) mailer.Request(address);
        Requested = true;
        Email = null;
        return Page();
    }
}
