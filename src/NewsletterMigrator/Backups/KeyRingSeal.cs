using System.Security.Cryptography;
using System.Text;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Backups;

/// <summary>
/// The Data Protection key ring inside a backup archive, sealed with AES-GCM under a key derived from App:MasterKey.
/// The archive also holds the staff's security stamps: with the key ring in clear, whoever holds the archive could forge
/// a staff sign-in cookie for the live site. Sealed, the archive is of no use without the master key, which it never holds.
/// The entry's name is the associated data, so a sealed file cannot pass for another one.
/// </summary>
public static class KeyRingSeal
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static byte[] Seal(KeyRing keys, string entryName, byte[] plain)
    {
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keys.BackupKeyRingKey, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length), Encoding.UTF8.GetBytes(entryName));
        return output;
    }

    /// <exception cref="CryptographicException">Sealed under another master key, or altered.</exception>
    public static byte[] Open(KeyRing keys, string entryName, byte[] sealedValue)
    {
        var length = sealedValue.Length - NonceSize - TagSize;
        if (length < 0) throw new CryptographicException("The value is too short to be a sealed key ring file.");
        var plain = new byte[length];
        using var aes = new AesGcm(keys.BackupKeyRingKey, TagSize);
        aes.Decrypt(sealedValue.AsSpan(0, NonceSize), sealedValue.AsSpan(NonceSize, length), sealedValue.AsSpan(NonceSize + length), plain,
            Encoding.UTF8.GetBytes(entryName));
        return plain;
    }
}
