using System.Security.Cryptography;
using System.Text;

namespace NewsletterMigrator.Common;

/// <summary>Keyed hashes for the suppression list: they recognise an address or number without storing it (C18).</summary>
public static class SuppressionHash
{
    public static byte[] Email(KeyRing keys, string emailKey) =>
        HMACSHA256.HashData(keys.EmailHashKey, Encoding.UTF8.GetBytes(emailKey));

    /// <summary>Phone numbers use the same keyed HMAC that de-duplicates contacts, so the importer recognises them.</summary>
    public static byte[] Phone(PhoneProtector phones, string e164) => phones.Hmac(e164);
}
