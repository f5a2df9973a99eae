using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// TOTP codes (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) that work once. Identity's own provider takes a code
/// from two steps before to two steps after now and remembers nothing, so a code read over a shoulder, or caught by
/// a phishing page, signed in a second browser within those 2.5 minutes and could switch 2FA off. Here the step of
/// the last accepted code is stored with the account (AspNetUserTokens, no schema change), and any step at or below
/// it is refused. The window of two steps either side stays: phones with a clock a minute off still work.
/// The time comes from the app's <see cref="TimeProvider"/>, so tests can move it.
/// </summary>
public sealed class OneTimeAuthenticatorTokenProvider(TimeProvider clock) : AuthenticatorTokenProvider<StaffUser>
{
    public const string LoginProvider = "[NewsletterMigrator]";
    public const string LastStepName = "AuthenticatorLastStep";
    /// <summary>The last step stored with a new key (<see cref="ProtectedUserStore.SetAuthenticatorKeyAsync"/>): none used yet.</summary>
    public const string NoStepYet = "";
    private const int StepSeconds = 30;
    private const int Window = 2;

    public override async Task<bool> ValidateAsync(string purpose, string token, UserManager<StaffUser> manager, StaffUser user)
    {
        var key = await manager.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key) || token is not { Length: 6 } || !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            return false;
        var secret = Base32Decode(key);
        var now = clock.GetUtcNow().ToUnixTimeSeconds() / StepSeconds;
        var last = long.TryParse(await manager.GetAuthenticationTokenAsync(user, LoginProvider, LastStepName), CultureInfo.InvariantCulture, out var stored)
            ? stored : long.MinValue;
        for (var step = Math.Max(now - Window, last + 1); step <= now + Window; step++)
        {
            if (Compute(secret, step) != code) continue;
            // Saved with the account's concurrency stamp: of two requests racing with the same code, one fails to save
            // (ProtectedUserStore.UpdateAsync turns any lost race into a failed result).
            var saved = await manager.SetAuthenticationTokenAsync(user, LoginProvider, LastStepName, step.ToString(CultureInfo.InvariantCulture));
            return saved.Succeeded;
        }
        return false;
    }

    private static int Compute(byte[] secret, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> hash = stackalloc byte[HMACSHA1.HashSizeInBytes];
        HMACSHA1.HashData(secret, counter, hash);
        var offset = hash[^1] & 0x0F;
        return (BinaryPrimitives.ReadInt32BigEndian(hash[offset..]) & 0x7FFFFFFF) % 1_000_000;
    }

    /// <summary>The key as Identity makes it (<see cref="UserManager{TUser}.GenerateNewAuthenticatorKey"/>): Base32, upper case, no padding.</summary>
    private static byte[] Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            var value = alphabet.IndexOf(char.ToUpperInvariant(c));
            if (value < 0) continue; // padding or spaces
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits < 8) continue;
            bytes.Add((byte)(buffer >> (bits - 8)));
            bits -= 8;
        }
        return [.. bytes];
    }
}
