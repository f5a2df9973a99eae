using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// A staff member whom the admin's rule (<see cref="StaffSecurityPolicies"/>) asks for two-factor sign-in and who has
/// not set it up reaches nothing under /admin (pages, exports, QR codes) but the set-up page, which lives under
/// /account like sign-out; static files are served before this runs. Read on every /admin request, not at sign-in
/// only, so a stricter rule applies to sessions that are already open.
/// </summary>
public sealed class TwoFactorGate(RequestDelegate next)
{
    public const string SetupPath = "/account/two-factor";

    public async Task InvokeAsync(HttpContext context, StaffSecurityPolicies policies, UserManager<StaffUser> users)
    {
        if (context.User.Identity?.IsAuthenticated == true && context.Request.Path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase)
            && StaffSecurityPolicies.Applies(await policies.TwoFactorRequirementAsync(context.RequestAborted), context.User)
            && await users.GetUserAsync(context.User) is { TwoFactorEnabled: false })
        {
            var back = context.Request.Path + context.Request.QueryString;
            context.Response.Redirect($"{SetupPath}?returnUrl={Uri.EscapeDataString(back)}");
            return;
        }
        await next(context);
    }
}
