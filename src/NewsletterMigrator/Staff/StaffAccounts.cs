using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>Creates staff accounts for the first-run page, the create-admin command and the admin area.</summary>
public sealed class StaffAccounts(UserManager<StaffUser> users, RoleManager<IdentityRole> roles, AppDbContext db, TimeProvider clock)
{
    public Task<bool> AnyAsync(CancellationToken ct = default) => db.Users.AnyAsync(ct);

    public async Task<IdentityResult> CreateAsync(string email, string password, string role, string createdBy)
    {
        foreach (var name in Roles.All)
        {
            if (!await roles.RoleExistsAsync(name)) await roles.CreateAsync(new IdentityRole(name));
        }
        var user = new StaffUser { UserName = email, Email = email, EmailConfirmed = true };
        var result = await users.CreateAsync(user, password);
        if (!result.Succeeded) return result;
        result = await users.AddToRoleAsync(user, role);
        db.Audit(createdBy, "settings", $"created staff account {Redact.Email(email)} with role {role}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        return result;
    }
}
