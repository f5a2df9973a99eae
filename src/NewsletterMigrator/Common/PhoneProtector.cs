using System.Buffers.Binary;
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

    /// <summary>
    /// For bulk work (an import): one HMAC and one AES-GCM context reused for many numbers, instead of
    /// creating both per call. Not thread-safe: one session per thread.
    /// </summary>
    public Session CreateSession() => new(keys);

    public sealed class Session(KeyRing keys) : IDisposable
    {
        private readonly IncrementalHash _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, keys.PhoneHmacKey);
        private readonly AesGcm _aes = new(keys.PhoneEncryptionKey, TagSize);
        // Nonces count up from a random 96-bit start: unique within the session by construction and, with
        // random starts, across sessions; it spares a call into the system's random source per number.
        private readonly byte[] _nonceStart = RandomNumberGenerator.GetBytes(NonceSize);
        private ulong _counter;

        public byte[] Hmac(string e164)
        {
            _hmac.AppendData(Encoding.UTF8.GetBytes(e164));
            return _hmac.GetHashAndReset();
        }

        public byte[] Encrypt(string e164)
        {
            var plain = Encoding.UTF8.GetBytes(e164);
            var output = new byte[NonceSize + plain.Length + TagSize];
            var nonce = output.AsSpan(0, NonceSize);
            _nonceStart.CopyTo(nonce);
            BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], BinaryPrimitives.ReadUInt64BigEndian(_nonceStart.AsSpan(4)) + _counter++);
            _aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length));
            return output;
        }

        public void Dispose()
        {
            _hmac.Dispose();
            _aes.Dispose();
        }
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
