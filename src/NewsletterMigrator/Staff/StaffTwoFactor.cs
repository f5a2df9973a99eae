using System.Text;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using QRCoder;

namespace NewsletterMigrator.Staff;

/// <summary>What a staff member needs to add this account to an authenticator app.</summary>
/// <param name="Key">The shared secret in Base32, as Identity stores it.</param>
/// <param name="Uri">The otpauth:// URI the QR code holds.</param>
/// <param name="QrSvg">The QR code as an SVG element, made here: the secret never goes to a QR service.</param>
public sealed record AuthenticatorSetup(string Key, string Uri, string QrSvg)
{
    /// <summary>The key in groups of four, easier to type by hand; apps ignore the spaces.</summary>
    public string GroupedKey => string.Join(' ', Key.Chunk(4).Select(c => new string(c)));
}

public enum TwoFactorDisableResult { Disabled, WrongProof, LockedOut }

/// <summary>
/// A staff member's own two-factor sign-in (issue 15): TOTP through Identity's authenticator token provider, and ten
/// one-time recovery codes. Calls that change the security stamp (a new key, switching on or off) sign out the
/// member's other browsers; the page signs the current one in again.
/// </summary>
public sealed class StaffTwoFactor(UserManager<StaffUser> users, AppDbContext db, TimeProvider clock)
{
    public const string Issuer = "NewsletterMigrator";
    public const int RecoveryCodeCount = 10;

    /// <summary>The account's authenticator key, made on first use; the same until 2FA is switched on or off.</summary>
    public async Task<AuthenticatorSetup> SetupAsync(StaffUser user)
    {
        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            await users.ResetAuthenticatorKeyAsync(user);
            key = (await users.GetAuthenticatorKeyAsync(user))!;
        }
        var email = await users.GetEmailAsync(user) ?? user.UserName!;
        var uri = $"otpauth://totp/{System.Uri.EscapeDataString(Issuer)}:{System.Uri.EscapeDataString(email)}" +
                  $"?secret={key}&issuer={System.Uri.EscapeDataString(Issuer)}&digits=6";
        return new AuthenticatorSetup(key, uri, QrSvg(uri));
    }

    /// <summary>Switches 2FA on when the code from the app matches; the recovery codes, shown once, or null for a wrong code.</summary>
    public async Task<IReadOnlyList<string>?> EnableAsync(StaffUser user, string? code)
    {
        if (await users.GetAuthenticatorKeyAsync(user) is null || !await VerifyCodeAsync(user, code)) return null;
        await users.SetTwoFactorEnabledAsync(user, true);
        var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))!.ToList();
        await AuditAsync(user, "two-factor sign-in switched on");
        return codes;
    }

    /// <summary>
    /// Switches 2FA off after proof that the person at the keyboard is the member, not just someone at an unlocked
    /// screen: the password or a current code. A wrong proof counts towards the lockout like a wrong sign-in.
    /// The key is replaced, so a copy of the old one in an app is useless from now on.
    /// </summary>
    public async Task<TwoFactorDisableResult> DisableAsync(StaffUser user, string? password, string? code)
    {
        if (await users.IsLockedOutAsync(user)) return TwoFactorDisableResult.LockedOut;
        var proven = !string.IsNullOrEmpty(password) ? await users.CheckPasswordAsync(user, password) : await VerifyCodeAsync(user, code);
        if (!proven)
        {
            await users.AccessFailedAsync(user);
            return await users.IsLockedOutAsync(user) ? TwoFactorDisableResult.LockedOut : TwoFactorDisableResult.WrongProof;
        }
        await users.SetTwoFactorEnabledAsync(user, false);
        await users.ResetAuthenticatorKeyAsync(user);
        await AuditAsync(user, "two-factor sign-in switched off");
        return TwoFactorDisableResult.Disabled;
    }

    /// <summary>Ten new recovery codes; the old ones stop working.</summary>
    public async Task<IReadOnlyList<string>?> RegenerateRecoveryCodesAsync(StaffUser user)
    {
        if (!await users.GetTwoFactorEnabledAsync(user)) return null;
        var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))!.ToList();
        await AuditAsync(user, "two-factor recovery codes regenerated");
        return codes;
    }

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
