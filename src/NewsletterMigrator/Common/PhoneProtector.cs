using System.Security.Cryptography;
using System.Text;

namespace NewsletterMigrator.Common;

/// <summary>Phone numbers at rest: AES-GCM to read them back for wa.me links, a keyed HMAC to find duplicates (C19).</summary>
public sealed class PhoneProtector(KeyRing keys)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public byte[] Hmac(string e164) => HMACSHA256.HashData(keys.PhoneHmacKey, Encoding.UTF8.GetBytes(e164));

    public byte[] Encrypt(string e164)
    {
        var plain = Encoding.UTF8.GetBytes(e164);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keys.PhoneEncryptionKey, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length));
        return output;
    }

    public string Decrypt(byte[] sealedValue)
    {
        var length = sealedValue.Length - NonceSize - TagSize;
        if (length < 0) throw new CryptographicException("The value is too short to be an encrypted phone number.");
        var plain = new byte[length];
        using var aes = new AesGcm(keys.PhoneEncryptionKey, TagSize);
        aes.Decrypt(sealedValue.AsSpan(0, NonceSize), sealedValue.AsSpan(NonceSize, length),
            sealedValue.AsSpan(NonceSize + length), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
