using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

public enum PasswordChangeResult { Changed, WrongPassword, LockedOut, Refused }

/// <summary>What a signed-in staff member does to the own account besides 2FA: change the password, sign out everywhere.</summary>
public sealed class OwnAccount(UserManager<StaffUser> users, AppDbContext db, TimeProvider clock)
{
    /// <summary>
    /// The current password is checked first and a wrong one counts towards the lockout, so an open session does not
    /// let anyone guess the password; the new one passes every password validator (length, common passwords).
    /// The security stamp changes, which signs out the member's other browsers.
    /// </summary>
    public async Task<(PasswordChangeResult Result, IEnumerable<IdentityError> Errors)> ChangePasswordAsync(StaffUser user, string current, string next)
    {
        if (await users.IsLockedOutAsync(user)) return (PasswordChangeResult.LockedOut, []);
        if (!await users.CheckPasswordAsync(user, current))
        {
            await users.AccessFailedAsync(user);
            return (await users.IsLockedOutAsync(user) ? PasswordChangeResult.LockedOut : PasswordChangeResult.WrongPassword, []);
        }
        var result = await users.ChangePasswordAsync(user, current, next);
        if (!result.Succeeded) return (PasswordChangeResult.Refused, result.Errors);
        await AuditAsync(user, "password changed");
        return (PasswordChangeResult.Changed, []);
    }

    /// <summary>
    /// A new security stamp: every sign-in cookie and every remembered browser of this member fails the stamp check
    /// on its next request (SecurityStampValidatorOptions.ValidationInterval is zero).
    /// </summary>
    public async Task SignOutEverywhereAsync(StaffUser user)
    {
        await users.UpdateSecurityStampAsync(user);
        await AuditAsync(user, "signed out everywhere");
    }

    private async Task AuditAsync(StaffUser user, string action)
    {
        db.Audit(user.UserName!, "account", action, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
    }
}
