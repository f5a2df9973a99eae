using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>The admin's rule for who must sign in with a second factor (issue 15), kept in the one <see cref="StaffSecurityPolicy"/> row.</summary>
public sealed class StaffSecurityPolicies(AppDbContext db, TimeProvider clock)
{
    public async Task<TwoFactorRequirement> TwoFactorRequirementAsync(CancellationToken ct = default) =>
        await db.StaffSecurityPolicies.AsNoTracking().Where(p => p.Id == StaffSecurityPolicy.SingleId)
            .Select(p => (TwoFactorRequirement?)p.RequireTwoFactor).SingleOrDefaultAsync(ct) ?? TwoFactorRequirement.Admins;

    public async Task SetTwoFactorRequirementAsync(TwoFactorRequirement requirement, string changedBy)
    {
        if (!Enum.IsDefined(requirement)) throw new ArgumentOutOfRangeException(nameof(requirement));
        var policy = await db.StaffSecurityPolicies.SingleOrDefaultAsync(p => p.Id == StaffSecurityPolicy.SingleId);
        if (policy is null) db.StaffSecurityPolicies.Add(policy = new StaffSecurityPolicy { Id = StaffSecurityPolicy.SingleId });
        var before = policy.RequireTwoFactor;
        policy.RequireTwoFactor = requirement;
        db.Audit(changedBy, "settings", $"two-factor sign-in required for: {requirement} (was {before})", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
    }

    /// <summary>Whether the rule asks this signed-in staff member for a second factor.</summary>
    public static bool Applies(TwoFactorRequirement requirement, ClaimsPrincipal staff) => requirement switch
    {
        TwoFactorRequirement.AllStaff => true,
        TwoFactorRequirement.Admins => staff.IsInRole(Roles.Admin),
        _ => false,
    };
}
