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
    public string Create(string purpose, Guid recordId, int generation)
    {
        var mac = HMACSHA256.HashData(keys.TokenKey, Encoding.UTF8.GetBytes($"{purpose}|{recordId:N}|{generation}"));
        return Base64Url.EncodeToString(mac);
    }

    /// <summary>For bulk work (an import): the stored hash of a new token, with one reused HMAC context. One per thread.</summary>
    public HashSession CreateHashSession() => new(keys);

    public sealed class HashSession(KeyRing keys) : IDisposable
    {
        private readonly IncrementalHash _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, keys.TokenKey);
        private readonly byte[] _macBytes = new byte[32];
        private readonly byte[] _tokenBytes = new byte[43];

        /// <summary>Equals <c>Hash(Create(purpose, recordId, generation))</c>.</summary>
        public byte[] HashOfNew(string purpose, Guid recordId, int generation)
        {
            _mac.AppendData(Encoding.UTF8.GetBytes($"{purpose}|{recordId:N}|{generation}"));
            _mac.GetHashAndReset(_macBytes);
            Base64Url.EncodeToUtf8(_macBytes, _tokenBytes);
            return SHA256.HashData(_tokenBytes);
        }

        public void Dispose() => _mac.Dispose();
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The lookup key for a token from a URL; null when it cannot be one of ours.</summary>
    public static byte[]? TryHash(string? token) =>
        token is { Length: 43 } && IsBase64Url(token) ? Hash(token) : null;

    public static bool Matches(string token, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);

    private static bool IsBase64Url(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        }
        return true;
    }
}
