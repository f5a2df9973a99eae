using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// The token in a link mailed to a staff member (invitation, password reset): encrypted and signed with the app's Data
/// Protection keys, bound to the account, the purpose and its security stamp, valid for one lifespan. Setting the
/// password changes the stamp, so a link works once; so does a deactivation or a newer invitation (a
/// pending invitee's role, newsletter or 2FA change leaves the stamp, and so the mailed link, alone).
/// Identity's DataProtectorTokenProvider does the same but reads the system clock; this one reads the app's
/// <see cref="TimeProvider"/>, so the expiry is tested by moving the clock rather than by waiting 48 hours.
/// The token is base64url: it goes into a URL as is, and the log redaction knows its shape (<c>LogRedactor</c>).
/// </summary>
public abstract class StaffLinkTokenProvider(IDataProtectionProvider protection, TimeProvider clock, string name, TimeSpan lifespan)
    : IUserTwoFactorTokenProvider<StaffUser>
{
    private readonly IDataProtector _protector = protection.CreateProtector("NewsletterMigrator.Staff.LinkToken", name);

    public TimeSpan Lifespan => lifespan;

    public async Task<string> GenerateAsync(string purpose, UserManager<StaffUser> manager, StaffUser user)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(clock.GetUtcNow().UtcTicks);
            writer.Write(await manager.GetUserIdAsync(user));
            writer.Write(purpose);
            writer.Write(await manager.GetSecurityStampAsync(user) ?? "");
        }
        return WebEncoders.Base64UrlEncode(_protector.Protect(buffer.ToArray()));
    }

    public async Task<bool> ValidateAsync(string purpose, string token, UserManager<StaffUser> manager, StaffUser user)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(_protector.Unprotect(WebEncoders.Base64UrlDecode(token))));
            var created = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            if (created + lifespan < clock.GetUtcNow()) return false;
            if (reader.ReadString() != await manager.GetUserIdAsync(user)) return false;
            if (reader.ReadString() != purpose) return false;
            return reader.ReadString() == (await manager.GetSecurityStampAsync(user) ?? "");
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException or EndOfStreamException or IOException)
        {
            return false; // forged, cut off, or made with a key this installation no longer has
        }
    }

    public Task<bool> CanGenerateTwoFactorTokenAsync(UserManager<StaffUser> manager, StaffUser user) => Task.FromResult(false);
}

/// <summary>The invitation link: 48 hours to set a first password.</summary>
public sealed class InvitationTokenProvider(IDataProtectionProvider protection, TimeProvider clock)
    : StaffLinkTokenProvider(protection, clock, Name, TimeSpan.FromHours(48))
{
    public const string Name = "StaffInvitation";
    public const string Purpose = "SetFirstPassword";
}

/// <summary>The password reset link: 2 hours, long enough to find the mail, short for a mailbox someone else reads.</summary>
public sealed class PasswordResetTokenProvider(IDataProtectionProvider protection, TimeProvider clock)
    : StaffLinkTokenProvider(protection, clock, Name, TimeSpan.FromHours(2))
{
    public const string Name = "StaffPasswordReset";
}
