using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace NewsletterMigrator.Common;

public static class TokenPurpose
{
    public const string Invitation = "invite";
    public const string Confirm = "confirm";
    public const string Unsubscribe = "unsubscribe";
    /// <summary>The short-lived link that opens export, change of address and erasure (C33).</summary>
    public const string Access = "manage-access";
    /// <summary>The DOI link sent to a requested new address.</summary>
    public const string AddressChange = "address-change";
}

/// <summary>
/// Tokens per C29: HMAC-SHA256 over purpose, record id and generation (256 bits, base64url).
/// Only the SHA-256 of a token is stored; a link is derived again when it must be shown,
/// and bumping the generation revokes it.
/// </summary>
public sealed class TokenService(KeyRing keys)
{
    private const int MacBytes = 32;
    private const int TokenBytes = 32;
    private const int IdBytes = 16;
    private const int MaxMessageBytes = 128;

    public string Create(string purpose, Guid recordId, int generation)
    {
        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(keys.TokenKey, Message(purpose, recordId, generation, stackalloc byte[MaxMessageBytes]), mac);
        return Base64Url.EncodeToString(mac);
    }

    /// <summary>
    /// A token that names its record: the id, then the first 128 bits of the same HMAC (still 43 characters,
    /// still derived and stored only as its SHA-256). It is found by primary key, so the table needs no index
    /// on random token hashes: for invitations that index made every imported contact a random B-tree write
    /// (about 14 µs per row of a million-row import). The id it reveals is an internal key, not personal data.
    /// </summary>
    public string CreateAddressed(string purpose, Guid recordId, int generation)
    {
        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(keys.TokenKey, Message(purpose, recordId, generation, stackalloc byte[MaxMessageBytes]), mac);
        Span<byte> token = stackalloc byte[TokenBytes];
        Address(recordId, mac, token);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>The record an addressed token names, or null when it cannot be one of ours. It proves nothing until <see cref="Matches"/>.</summary>
    public static Guid? TryReadRecordId(string? token)
    {
        if (token is not { Length: 43 } || !IsBase64Url(token)) return null;
        Span<byte> bytes = stackalloc byte[TokenBytes];
        return Base64Url.TryDecodeFromChars(token, bytes, out var written) && written == TokenBytes
            ? new Guid(bytes[..IdBytes], bigEndian: true)
            : null;
    }

    /// <summary>What the HMAC covers (C29): purpose, record id and generation, as UTF-8 written into <paramref name="buffer"/>.</summary>
    private static ReadOnlySpan<byte> Message(string purpose, Guid recordId, int generation, Span<byte> buffer) =>
        System.Text.Unicode.Utf8.TryWrite(buffer, $"{purpose}|{recordId:N}|{generation}", out var length)
            ? buffer[..length]
            : throw new ArgumentException("The token purpose is too long.", nameof(purpose));

    private static void Address(Guid recordId, ReadOnlySpan<byte> mac, Span<byte> token)
    {
        recordId.TryWriteBytes(token[..IdBytes], bigEndian: true, out _);
        mac[..(TokenBytes - IdBytes)].CopyTo(token[IdBytes..]);
    }

    /// <summary>
    /// Whether <paramref name="token"/> is the addressed token of this record, purpose and generation: derived again and compared
    /// in fixed time, so a record whose link is shown by deriving it needs no stored hash (invitations: an import stores none).
    /// </summary>
    public bool MatchesAddressed(string token, string purpose, Guid recordId, int generation)
    {
        Span<byte> presented = stackalloc byte[TokenBytes];
        if (token is not { Length: 43 } || !IsBase64Url(token) || !Base64Url.TryDecodeFromChars(token, presented, out var written) || written != TokenBytes)
            return false;
        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(keys.TokenKey, Message(purpose, recordId, generation, stackalloc byte[MaxMessageBytes]), mac);
        Span<byte> expected = stackalloc byte[TokenBytes];
        Address(recordId, mac, expected);
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The lookup key for a token from a URL; null when it cannot be one of ours.</summary>
    public static byte[]? TryHash(string? token) =>
        token is { Length: 43 } && IsBase64Url(token) ? Hash(token) : null;

    public static bool Matches(string token, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);

    /// <summary>
    /// Base64url as we write it: 43 characters hold 32 bytes, so the last character's two low bits are padding
    /// and always zero. .NET's decoder throws on other bits (it does not return false), and such a string is
    /// no token we issued: it is refused here, like any other unknown token.
    /// </summary>
    private static bool IsBase64Url(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        }
        return value.Length == 0 || (SextetOf(value[^1]) & 0b11) == 0;
    }

    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };
}
