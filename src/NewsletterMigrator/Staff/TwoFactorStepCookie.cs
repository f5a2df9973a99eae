using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// The cookie that carries the account between the password and the code (nm.2fa). Identity issues it with the
/// account id only and renews it on every request for five minutes: a browser that had the password went on to the
/// code step after a password change, "sign out everywhere" or a deactivation, and could wait there indefinitely.
/// Here it holds the security stamp it was issued under and is refused once the account's stamp has changed, and it
/// does not slide. (Whether the account may sign in at all, e.g. deactivated, the code step asks
/// <see cref="StaffSignInManager"/> itself.)
/// </summary>
public static class TwoFactorStepCookie
{
    public static void Configure(CookieAuthenticationOptions options)
    {
        options.SlidingExpiration = false;
        options.Events.OnSigningIn = async context =>
        {
            var users = context.HttpContext.RequestServices.GetRequiredService<UserManager<StaffUser>>();
            if (context.Principal?.Identity is not ClaimsIdentity identity
                || await users.FindByIdAsync(identity.FindFirst(ClaimTypes.Name)?.Value ?? "") is not { } user) return;
            identity.AddClaim(new Claim(users.Options.ClaimsIdentity.SecurityStampClaimType, await users.GetSecurityStampAsync(user)));
        };
        options.Events.OnValidatePrincipal = async context =>
        {
            var users = context.HttpContext.RequestServices.GetRequiredService<UserManager<StaffUser>>();
            var user = await users.FindByIdAsync(context.Principal?.FindFirstValue(ClaimTypes.Name) ?? "");
            var stamp = context.Principal?.FindFirstValue(users.Options.ClaimsIdentity.SecurityStampClaimType);
            if (user is not null && stamp is not null && stamp == await users.GetSecurityStampAsync(user)) return;
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(IdentityConstants.TwoFactorUserIdScheme);
        };
    }
}
