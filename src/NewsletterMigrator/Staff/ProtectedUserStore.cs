using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Identity's EF store, except that the second factor is not kept in clear in AspNetUserTokens (and so in every
/// backup, which holds the database but never App:MasterKey): the authenticator key is encrypted with AES-GCM under
/// a key derived from the master key, bound to the account's id; recovery codes are kept only as HMAC-SHA256 values
/// under another derived key, so a copy of the database yields neither a code generator nor a code to type.
/// Same rows and columns as before: no schema change.
/// </summary>
public sealed class ProtectedUserStore(AppDbContext context, KeyRing keys, IdentityErrorDescriber? describer = null)
    : UserStore<StaffUser, IdentityRole, AppDbContext>(context, describer)
{
    // Identity's own names for the two rows, so StaffDirectory's reset and the admin list keep working unchanged.
    private const string InternalLoginProvider = "[AspNetUserStore]";
    private const string AuthenticatorKeyName = "AuthenticatorKey";
    private const string RecoveryCodesName = "RecoveryCodes";
    private const string Version = "v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public override async Task SetAuthenticatorKeyAsync(StaffUser user, string key, CancellationToken cancellationToken)
    {
        await SetTokenAsync(user, InternalLoginProvider, AuthenticatorKeyName, Protect(user, key), cancellationToken);
        // A new key starts a new sequence of time steps; the old key's last used step says nothing about it. A row with
        // no step rather than none: two requests racing with the same first code then both update it under the
        // account's concurrency stamp, and one gets a ConcurrencyFailure, instead of both inserting it (a key violation).
        await SetTokenAsync(user, OneTimeAuthenticatorTokenProvider.LoginProvider, OneTimeAuthenticatorTokenProvider.LastStepName,
            OneTimeAuthenticatorTokenProvider.NoStepYet, cancellationToken);
    }

    /// <summary>
    /// A save that lost a race fails as a <see cref="IdentityErrorDescriber.ConcurrencyFailure"/> (Identity catches only
    /// the concurrency-stamp case; a row inserted by both is a plain <see cref="DbUpdateException"/>), and the failed
    /// changes are dropped from the context: left tracked, they would make the next SaveChanges of the request (an
    /// audit line, a failed-attempt count) throw as well.
    /// </summary>
    public override async Task<IdentityResult> UpdateAsync(StaffUser user, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await base.UpdateAsync(user, cancellationToken);
            if (!result.Succeeded) Context.ChangeTracker.Clear();
            return result;
        }
        catch (DbUpdateException)
        {
            Context.ChangeTracker.Clear();
            return IdentityResult.Failed(ErrorDescriber.ConcurrencyFailure());
        }
    }

    public override async Task<string?> GetAuthenticatorKeyAsync(StaffUser user, CancellationToken cancellationToken) =>
        await GetTokenAsync(user, InternalLoginProvider, AuthenticatorKeyName, cancellationToken) is { Length: > 0 } stored ? Unprotect(user, stored) : null;

    public override Task ReplaceCodesAsync(StaffUser user, IEnumerable<string> recoveryCodes, CancellationToken cancellationToken) =>
        SetTokenAsync(user, InternalLoginProvider, RecoveryCodesName, string.Join(';', recoveryCodes.Select(Hash)), cancellationToken);

    public override async Task<bool> RedeemCodeAsync(StaffUser user, string code, CancellationToken cancellationToken)
    {
        var stored = await StoredCodesAsync(user, cancellationToken);
        var typed = Convert.FromBase64String(Hash(code));
        var match = stored.FindIndex(s => CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(s), typed));
        if (match < 0) return false;
        stored.RemoveAt(match);
        await SetTokenAsync(user, InternalLoginProvider, RecoveryCodesName, string.Join(';', stored), cancellationToken);
        return true;
    }

    public override async Task<int> CountCodesAsync(StaffUser user, CancellationToken cancellationToken) =>
        (await StoredCodesAsync(user, cancellationToken)).Count;

    /// <summary>
    /// A recovery code as typed: Identity makes "ABCDE-12345", people type "abcde 12345" or "ABCDE12345". Spaces and
    /// dashes are dropped and letters upper-cased before hashing, here at both ends, so each way matches and none of
    /// them counts as a wrong code.
    /// </summary>
    public static string Canonical(string code) =>
        string.Concat(code.Where(c => !char.IsWhiteSpace(c) && c != '-')).ToUpperInvariant();

    private string Hash(string code) =>
        Convert.ToBase64String(HMACSHA256.HashData(keys.RecoveryCodeHmacKey, Encoding.UTF8.GetBytes(Canonical(code))));

    private async Task<List<string>> StoredCodesAsync(StaffUser user, CancellationToken cancellationToken) =>
        [.. ((await GetTokenAsync(user, InternalLoginProvider, RecoveryCodesName, cancellationToken)) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries)];

    private string Protect(StaffUser user, string key)
    {
        var plain = Encoding.UTF8.GetBytes(key);
        var output = new byte[NonceSize + plain.Length + TagSize];
        RandomNumberGenerator.Fill(output.AsSpan(0, NonceSize));
        using var aes = new AesGcm(keys.AuthenticatorKeyEncryptionKey, TagSize);
        aes.Encrypt(output.AsSpan(0, NonceSize), plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length),
            AccountBinding(user));
        return Version + Convert.ToBase64String(output);
    }

    /// <summary>Throws when the value was not written by this code under this master key (a restore with another key).</summary>
    private string Unprotect(StaffUser user, string stored)
    {
        if (!stored.StartsWith(Version, StringComparison.Ordinal))
            throw new CryptographicException("The stored authenticator key is not in the encrypted format; reset the member's two-factor sign-in on /admin/staff.");
        var sealedValue = Convert.FromBase64String(stored[Version.Length..]);
        var length = sealedValue.Length - NonceSize - TagSize;
        if (length < 0) throw new CryptographicException("The stored authenticator key is too short.");
        var plain = new byte[length];
        using var aes = new AesGcm(keys.AuthenticatorKeyEncryptionKey, TagSize);
        aes.Decrypt(sealedValue.AsSpan(0, NonceSize), sealedValue.AsSpan(NonceSize, length), sealedValue.AsSpan(NonceSize + length), plain,
            AccountBinding(user));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Associated data: a key copied into another account's row does not decrypt there.</summary>
    private static byte[] AccountBinding(StaffUser user) => Encoding.UTF8.GetBytes(user.Id);
}
