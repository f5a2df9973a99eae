using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account;

/// <summary>The reset link from the "forgot password" mail: a new password, then sign in. An expired, used or forged link changes nothing.</summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class ResetPasswordModel(StaffPasswordLinks links, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "user")] public string? UserId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Token { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? Confirmation { get; set; }

    public bool LinkInvalid { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await links.ResetAsync(UserId, Token) is null ? Invalid() : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await links.ResetPasswordAsync(UserId, Token, Password, Confirmation);
        if (result.Outcome == PasswordLinkOutcome.Done)
        {
            TempData["Message"] = text["StaffReset_Done"].Value;
            return RedirectToPage("/Account/Login");
        }
        if (result.Outcome == PasswordLinkOutcome.InvalidLink) return Invalid();
        PasswordForm.AddErrors(ModelState, result, text);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private PageResult Invalid()
    {
        LinkInvalid = true;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
