using System.Security.Cryptography;
using System.Text;

namespace NewsletterMigrator.Common;

/// <summary>Keyed hashes for the suppression list: they recognise an address or number without storing it (C18).</summary>
public static class SuppressionHash
{
    public static byte[] Email(KeyRing keys, string emailKey) =>
        HMACSHA256.HashData(keys.EmailHashKey, Encoding.UTF8.GetBytes(emailKey));
}
