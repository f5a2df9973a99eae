using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace NewsletterMigrator.Tests;

/// <summary>
/// RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits), as an authenticator app computes it from the shared secret:
/// written out here so the tests check the app against the standard, not against Identity's own code.
/// </summary>
public static class Totp
{
    /// <summary>The steps <see cref="Next"/> has handed out, per key (keys are random per test).</summary>
    private static readonly ConcurrentDictionary<string, long> LastStep = new();

    public static string Code(string base32Key, DateTimeOffset? at = null) =>
        CodeAt(base32Key, (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds() / 30);

    /// <summary>
    /// A code nobody has used yet: the current one, or when this key's current one was handed out already, the next
    /// step's (what a member who waits for the app's next code types). The app takes each step once, and up to two
    /// steps ahead for a phone whose clock runs fast, so a test gets up to three fresh codes within 30 seconds.
    /// </summary>
    public static string Next(string base32Key)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;
        return CodeAt(base32Key, LastStep.AddOrUpdate(base32Key, now, (_, last) => Math.Max(now, last + 1)));
    }

    private static string CodeAt(string base32Key, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        var hash = HMACSHA1.HashData(Base32(base32Key), counter);
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFFFFFF) % 1_000_000;
        return value.ToString("D6");
    }

    /// <summary>A code that is certainly wrong now: not the current one, nor one of its neighbours that the server accepts.</summary>
    public static string WrongCode(string base32Key)
    {
        var near = Enumerable.Range(-3, 7).Select(s => Code(base32Key, DateTimeOffset.UtcNow.AddSeconds(30 * s))).ToHashSet();
        return Enumerable.Range(0, 1000).Select(i => i.ToString("D6")).First(c => !near.Contains(c));
    }

    private static byte[] Base32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bits = 0;
        var buffer = 0;
        var bytes = new List<byte>();
        foreach (var c in text.ToUpperInvariant().Where(c => c is not ' ' and not '='))
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. bytes];
    }
}
