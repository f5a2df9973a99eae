using System.Security.Cryptography;
using System.Text;

namespace NewsletterMigrator.Api;

/// <summary>
/// The key itself: <c>nmk_</c> and 32 random bytes in base64url (256 bits, C29 asks 128 for tokens). The prefix makes a
/// leaked key recognisable to secret scanners and people; only its SHA-256 is stored. A slow password hash would add
/// nothing for a random 256-bit value and cost time on every request.
/// </summary>
public static class ApiKeySecret
{
    public const string Marker = "nmk_";

    /// <summary>"nmk_" and 43 base64url characters.</summary>
    public const int Length = 47;

    /// <summary>How much of the key lists and audit rows show: the marker and 8 characters (48 of the 256 bits).</summary>
    private const int PrefixLength = 12;

    public static string Create() => Marker + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string PrefixOf(string key) => key[..PrefixLength];

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The shape of a key, checked before any database read: anything else is not a key of ours.</summary>
    public static bool LooksValid(string? key) =>
        key is { Length: Length } && key.StartsWith(Marker, StringComparison.Ordinal)
        && key.AsSpan(Marker.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    /// <summary>Compares in fixed time, so the time of a refusal says nothing about how much of a hash matched.</summary>
    public static bool Matches(string key, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(Hash(key), storedHash);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
