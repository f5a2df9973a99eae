using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account.Manage;

/// <summary>
/// The signed-in member's two-factor sign-in: set up with the QR code or the typed key and a first code, then the
/// recovery codes once; switch off (with the password or a code) and new recovery codes. The one page
/// <see cref="TwoFactorGate"/> leaves open to a member the admin's rule asks for 2FA. It shows the key and the codes,
/// so no browser or proxy may keep a copy.
/// </summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class TwoFactorModel(UserManager<StaffUser> users, SignInManager<StaffUser> signIn, StaffTwoFactor twoFactor,
    StaffSecurityPolicies policies, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? Code { get; set; }
    [BindProperty] public string? Password { get; set; }

    public bool Enabled { get; private set; }
    /// <summary>The admin's rule asks this member for 2FA.</summary>
    public bool Required { get; private set; }
    public AuthenticatorSetup? Setup { get; private set; }
    public int RecoveryCodesLeft { get; private set; }
    /// <summary>Shown once, right after they were made; never stored anywhere readable.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }
    public string ContinueTo { get; private set; } = "/admin";

    public async Task<IActionResult> OnGetAsync(string? returnUrl)
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        await LoadAsync(user, returnUrl);
        return Page();
    }

    public async Task<IActionResult> OnPostEnableAsync(string? returnUrl)
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        // A second submit (back button) must not make new recovery codes behind the member's back.
        if (await users.GetTwoFactorEnabledAsync(user)) return RedirectToPage();
        RecoveryCodes = await twoFactor.EnableAsync(user, Code);
        if (RecoveryCodes is null && await users.FindByIdAsync(user.Id) is { TwoFactorEnabled: true } enabled)
        {
            // The same code sent twice at once: the other request switched 2FA on and holds the codes; not a wrong code.
            await signIn.RefreshSignInAsync(enabled);
            TempData["Message"] = text["TwoFactor_EnabledByOtherRequest"].Value;
            return RedirectToPage(new { returnUrl });
        }
        if (RecoveryCodes is null) ModelState.AddModelError(nameof(Code), text["TwoFactor_SetupWrongCode"]);
        else await signIn.RefreshSignInAsync(user); // the new security stamp would end this session too
        await LoadAsync(user, returnUrl);
        return Page();
    }

    public async Task<IActionResult> OnPostDisableAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        switch (await twoFactor.DisableAsync(user, Password, Code))
        {
            case TwoFactorDisableResult.Disabled:
                await signIn.ForgetTwoFactorClientAsync();
                await signIn.RefreshSignInAsync(user);
                TempData["Message"] = text["TwoFactor_Disabled"].Value;
                return RedirectToPage();
            case TwoFactorDisableResult.LockedOut:
                ModelState.AddModelError("", text["TwoFactor_LockedOut"]);
                break;
            default:
                ModelState.AddModelError("", text["TwoFactor_DisableWrongProof"]);
                break;
        }
        await LoadAsync(user, null);
        return Page();
    }

    public async Task<IActionResult> OnPostRecoveryCodesAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        var (proof, codes) = await twoFactor.RegenerateRecoveryCodesAsync(user, Password, Code);
        RecoveryCodes = codes;
        if (proof == TwoFactorProof.LockedOut) ModelState.AddModelError("", text["TwoFactor_LockedOut"]);
        else if (codes is null) ModelState.AddModelError("", text["TwoFactor_DisableWrongProof"]);
        await LoadAsync(user, null);
        return Page();
    }

    private async Task LoadAsync(StaffUser user, string? returnUrl)
    {
        Enabled = await users.GetTwoFactorEnabledAsync(user);
        Required = StaffSecurityPolicies.Applies(await policies.TwoFactorRequirementAsync(), User);
        ContinueTo = LocalRedirectTarget.OrFallback(returnUrl, "/admin");
        if (Enabled) RecoveryCodesLeft = await twoFactor.RecoveryCodesLeftAsync(user);
        else Setup = await twoFactor.SetupAsync(user);
    }
}
