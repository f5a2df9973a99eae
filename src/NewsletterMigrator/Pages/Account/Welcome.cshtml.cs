using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account;

/// <summary>The invitation link: the invitee sets their first password, then signs in. An expired, used or forged link changes nothing.</summary>
[EnableRateLimiting(SignInRateLimits.Policy)]
public sealed class WelcomeModel(StaffPasswordLinks links, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "user")] public string? UserId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Token { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? Confirmation { get; set; }

    public string? Email { get; private set; }
    public bool LinkInvalid { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await links.InvitationAsync(UserId, Token);
        if (user is null) return Invalid();
        Email = user.Email;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await links.AcceptInvitationAsync(UserId, Token, Password, Confirmation);
        if (result.Outcome == PasswordLinkOutcome.Done)
        {
            TempData["Message"] = text["StaffWelcome_Done"].Value;
            return RedirectToPage("/Account/Login");
        }
        if (result.Outcome == PasswordLinkOutcome.InvalidLink) return Invalid();
        PasswordForm.AddErrors(ModelState, result, text);
        Email = (await links.InvitationAsync(UserId, Token))?.Email;
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

/// <summary>What the two password pages say about a refused password.</summary>
internal static class PasswordForm
{
    public static void AddErrors(Microsoft.AspNetCore.Mvc.ModelBinding.ModelStateDictionary state, PasswordLinkResult result, IStringLocalizer<SharedResource> text)
    {
        if (result.Outcome == PasswordLinkOutcome.PasswordsDiffer) state.AddModelError("Confirmation", text["StaffLink_PasswordDiffer"]);
        foreach (var error in result.Errors ?? []) state.AddModelError("Password", error);
    }
}
