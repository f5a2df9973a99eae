using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Password sign-in that does the same work whether the account exists or not (issue 13). Identity
/// answers an unknown user name, and a locked account, before it hashes anything: a wrong password took
/// 58 ms for a real account and 4 ms for an unknown one, which told a prober which addresses are staff.
/// Those two paths now check the password against <see cref="DummyPasswordHash"/> first.
/// </summary>
public sealed class StaffSignInManager(UserManager<StaffUser> users, IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<StaffUser> claimsFactory, IOptions<IdentityOptions> options, ILogger<SignInManager<StaffUser>> logger,
    IAuthenticationSchemeProvider schemes, IUserConfirmation<StaffUser> confirmation, DummyPasswordHash dummyHash,
    AppDbContext db, TimeProvider clock)
    : SignInManager<StaffUser>(users, contextAccessor, claimsFactory, options, logger, schemes, confirmation)
{
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        var user = await UserManager.FindByNameAsync(userName);
        if (user is not null) return await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure);
        dummyHash.Verify(UserManager.PasswordHasher, password);
        return SignInResult.Failed;
    }

    public override async Task<SignInResult> CheckPasswordSignInAsync(StaffUser user, string password, bool lockoutOnFailure)
    {
        // Identity refuses a locked (or not yet allowed) account before it looks at the password.
        if (await PreSignInCheck(user) is { } refused)
        {
            dummyHash.Verify(UserManager.PasswordHasher, password);
            return refused;
        }
        return await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);
    }

    /// <summary>
    /// The code step refuses an account that may no longer sign in (deactivated, locked) before it looks at the code;
    /// reaching the lockout here is audited (a guesser who has the password).
    /// </summary>
    public override async Task<SignInResult> TwoFactorAuthenticatorSignInAsync(string code, bool isPersistent, bool rememberClient)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        if (user is null) return SignInResult.Failed;
        if (await PreSignInCheck(user) is { } refused) return refused;
        var result = await base.TwoFactorAuthenticatorSignInAsync(code, isPersistent, rememberClient);
        if (result.IsLockedOut) await AuditAsync(user, StaffTwoFactor.LockedOutText(user, Options.Lockout.DefaultLockoutTimeSpan, "a wrong code at sign-in"));
        return result;
    }

    /// <summary>
    /// Identity redeems a recovery code without asking whether the account may still sign in, and counts no wrong one
    /// ("codes are random"): here a deactivated or locked account is refused for recovery codes too, and a wrong code
    /// counts like a wrong password or authenticator code, so the second step has one limit whichever way it is tried.
    /// A sign-in with a recovery code is audited with how many are left, so the member and the admins see it.
    /// </summary>
    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        if (user is null) return SignInResult.Failed;
        if (await PreSignInCheck(user) is { } refused) return refused;
        var result = await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
        if (result.Succeeded)
        {
            await AuditAsync(user, $"{Redact.Email(user.Email)} signed in with a recovery code, {await UserManager.CountRecoveryCodesAsync(user)} left");
            return result;
        }
        if (!UserManager.SupportsUserLockout) return result;
        await UserManager.AccessFailedAsync(user);
        if (!await UserManager.IsLockedOutAsync(user)) return result;
        await AuditAsync(user, StaffTwoFactor.LockedOutText(user, Options.Lockout.DefaultLockoutTimeSpan, "a wrong recovery code at sign-in"));
        return SignInResult.LockedOut;
    }

    /// <summary>
    /// A deactivated account, and an invitee who has not set a password yet, cannot sign in. Refused here, before the
    /// password, they take the dummy-hash path above: the login page answers them like any wrong password, as slowly.
    /// </summary>
    public override async Task<bool> CanSignInAsync(StaffUser user) =>
        user.IsActive() && await base.CanSignInAsync(user);

    /// <summary>The cookie of a deactivated account fails its per-request check even if its stamp were somehow unchanged.</summary>
    public override async Task<bool> ValidateSecurityStampAsync(StaffUser? user, string? securityStamp) =>
        user is { DeactivatedAtUtc: null } && await base.ValidateSecurityStampAsync(user, securityStamp);

    private async Task AuditAsync(StaffUser user, string details)
    {
        db.Audit(user.UserName!, "account", details, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
    }
}
