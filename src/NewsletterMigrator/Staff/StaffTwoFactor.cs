using System.Text;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using QRCoder;

namespace NewsletterMigrator.Staff;

/// <summary>What a staff member needs to add this account to an authenticator app.</summary>
/// <param name="Key">The shared secret in Base32, as the app shows it (stored encrypted: <see cref="ProtectedUserStore"/>).</param>
/// <param name="Uri">The otpauth:// URI the QR code holds.</param>
/// <param name="QrSvg">The QR code as an SVG element, made here: the secret never goes to a QR service.</param>
public sealed record AuthenticatorSetup(string Key, string Uri, string QrSvg)
{
    /// <summary>The key in groups of four, easier to type by hand; apps ignore the spaces.</summary>
    public string GroupedKey => string.Join(' ', Key.Chunk(4).Select(c => new string(c)));
}

public enum TwoFactorDisableResult { Disabled, WrongProof, LockedOut }

/// <summary>Whether the person at the keyboard proved to be the member (password or a current code).</summary>
public enum TwoFactorProof { Proven, Wrong, LockedOut }

/// <summary>
/// A staff member's own two-factor sign-in (issue 15): TOTP codes from an authenticator app, and ten
/// one-time recovery codes. Calls that change the security stamp (switching on or off) sign out the member's other
/// browsers; the page signs the current one in again. The key and the codes are stored protected
/// (<see cref="ProtectedUserStore"/>), each code works once (<see cref="OneTimeAuthenticatorTokenProvider"/>).
/// </summary>
public sealed class StaffTwoFactor(UserManager<StaffUser> users, IUserStore<StaffUser> userStore, AppDbContext db, TimeProvider clock)
{
    public const string Issuer = "NewsletterMigrator";
    public const int RecoveryCodeCount = 10;

    private IUserAuthenticatorKeyStore<StaffUser> KeyStore => (IUserAuthenticatorKeyStore<StaffUser>)userStore;

    /// <summary>
    /// The account's authenticator key, made on first use; the same until 2FA is switched on or off. Opening the set-up
    /// page makes it, so it is made without a new security stamp (Identity's ResetAuthenticatorKeyAsync renews it):
    /// with 2FA still off no session depends on the key, and the member's other browsers must not be signed out by a
    /// look at the page. Switching off replaces the key with a new stamp (<see cref="DisableAsync"/>).
    /// </summary>
    public async Task<AuthenticatorSetup> SetupAsync(StaffUser user)
    {
        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            key = users.GenerateNewAuthenticatorKey();
            await KeyStore.SetAuthenticatorKeyAsync(user, key, CancellationToken.None);
            var saved = await users.UpdateAsync(user);
            // Another browser of the member made one at the same moment (the account's concurrency stamp): show that one.
            if (!saved.Succeeded)
            {
                db.ChangeTracker.Clear();
                key = (await users.GetAuthenticatorKeyAsync((await users.FindByIdAsync(user.Id))!))!;
            }
        }
        var email = await users.GetEmailAsync(user) ?? user.UserName!;
        var uri = $"otpauth://totp/{System.Uri.EscapeDataString(Issuer)}:{System.Uri.EscapeDataString(email)}" +
                  $"?secret={key}&issuer={System.Uri.EscapeDataString(Issuer)}&digits=6";
        return new AuthenticatorSetup(key, uri, QrSvg(uri));
    }

    /// <summary>Switches 2FA on when the code from the app matches; the recovery codes, shown once, or null for a wrong code.</summary>
    public async Task<IReadOnlyList<string>?> EnableAsync(StaffUser user, string? code)
    {
        if (await users.GetAuthenticatorKeyAsync(user) is null) return null;
        // Switched on in the same save that uses up the code: a second request with the same code (a double-click)
        // fails that save, and then already finds 2FA on, not half-way.
        user.TwoFactorEnabled = true;
        if (!await VerifyCodeAsync(user, code))
        {
            user.TwoFactorEnabled = false;
            return null;
        }
        await users.SetTwoFactorEnabledAsync(user, true); // the new security stamp
        var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))!.ToList();
        await AuditAsync(user, "two-factor sign-in switched on");
        return codes;
    }

    /// <summary>
    /// Switches 2FA off after proof that the person at the keyboard is the member, not just someone at an unlocked
    /// screen (<see cref="ProveAsync"/>). The key is replaced, so a copy of the old one in an app is useless from now on.
    /// </summary>
    public async Task<TwoFactorDisableResult> DisableAsync(StaffUser user, string? password, string? code)
    {
        switch (await ProveAsync(user, password, code))
        {
            case TwoFactorProof.LockedOut: return TwoFactorDisableResult.LockedOut;
            case TwoFactorProof.Wrong: return TwoFactorDisableResult.WrongProof;
        }
        await users.SetTwoFactorEnabledAsync(user, false);
        await users.ResetAuthenticatorKeyAsync(user);
        await AuditAsync(user, "two-factor sign-in switched off");
        return TwoFactorDisableResult.Disabled;
    }

    /// <summary>
    /// Ten new recovery codes, the old ones stop working; after the same proof as switching off: new codes are a way
    /// in without the phone, and someone at an unlocked screen must not walk away with them. Codes only when proven.
    /// </summary>
    public async Task<(TwoFactorProof Proof, IReadOnlyList<string>? Codes)> RegenerateRecoveryCodesAsync(StaffUser user, string? password, string? code)
    {
        if (!await users.GetTwoFactorEnabledAsync(user)) return (TwoFactorProof.Wrong, null);
        var proof = await ProveAsync(user, password, code);
        if (proof != TwoFactorProof.Proven) return (proof, null);
        var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))!.ToList();
        await AuditAsync(user, "two-factor recovery codes regenerated");
        return (proof, codes);
    }

    /// <summary>
    /// The password or a current code from the app. A wrong or missing proof counts towards the lockout like a wrong
    /// sign-in, so an open session does not let anyone guess either; reaching the lockout is audited.
    /// </summary>
    private async Task<TwoFactorProof> ProveAsync(StaffUser user, string? password, string? code)
    {
        if (await users.IsLockedOutAsync(user)) return TwoFactorProof.LockedOut;
        var proven = !string.IsNullOrEmpty(password) ? await users.CheckPasswordAsync(user, password) : await VerifyCodeAsync(user, code);
        if (proven) return TwoFactorProof.Proven;
        await users.AccessFailedAsync(user);
        if (!await users.IsLockedOutAsync(user)) return TwoFactorProof.Wrong;
        await AuditAsync(user, LockedOutText(user, users.Options.Lockout.DefaultLockoutTimeSpan, "a wrong password or code on the two-factor page"));
        return TwoFactorProof.LockedOut;
    }

    /// <summary>The audit line for an account that has just reached the lockout; the address shortened.</summary>
    public static string LockedOutText(StaffUser user, TimeSpan duration, string last) =>
        $"{Redact.Email(user.Email)} locked for {StaffSignInOptions.Minutes(duration)} minutes after too many failed attempts (the last: {last})";

    public Task<int> RecoveryCodesLeftAsync(StaffUser user) => users.CountRecoveryCodesAsync(user);

    /// <summary>Spaces and dashes that apps show inside a code are not part of it.</summary>
    public static string NormalizeCode(string? code) => (code ?? "").Replace(" ", "").Replace("-", "").Trim();

    private Task<bool> VerifyCodeAsync(StaffUser user, string? code) =>
        users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider, NormalizeCode(code));

    private async Task AuditAsync(StaffUser user, string action)
    {
        db.Audit(user.UserName!, "account", action, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
    }

    private static string QrSvg(string uri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(4);
    }
}
