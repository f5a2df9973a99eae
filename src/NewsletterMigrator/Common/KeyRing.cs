using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Common;

/// <summary>
/// Derives every purpose key from one master secret by HKDF, so one value in the environment
/// (App:MasterKey) protects phone numbers, tokens and suppression hashes.
/// </summary>
public sealed class KeyRing
{
    public KeyRing(byte[] masterKey)
    {
        if (masterKey.Length != 32) throw new ArgumentException("The master key must be 32 bytes.", nameof(masterKey));
        PhoneHmacKey = Derive(masterKey, "phone-hmac");
        PhoneEncryptionKey = Derive(masterKey, "phone-aes-gcm");
        TokenKey = Derive(masterKey, "tokens");
        EmailHashKey = Derive(masterKey, "email-hash");
        AuthenticatorKeyEncryptionKey = Derive(masterKey, "authenticator-key-aes-gcm");
        RecoveryCodeHmacKey = Derive(masterKey, "recovery-code-hmac");
        BackupKeyRingKey = Derive(masterKey, "backup-key-ring-aes-gcm");
        BackupManifestMacKey = Derive(masterKey, "backup-manifest-hmac");
        ReturnPathKey = Derive(masterKey, "verp-return-path-hmac");
        RateWindowKey = Derive(masterKey, "rate-window-hmac");
        SetupCodeKey = Derive(masterKey, "first-run-setup-code");
    }

    public byte[] PhoneHmacKey { get; }
    public byte[] PhoneEncryptionKey { get; }
    public byte[] TokenKey { get; }
    public byte[] EmailHashKey { get; }
    /// <summary>Staff members' TOTP secrets at rest (<see cref="Staff.ProtectedUserStore"/>).</summary>
    public byte[] AuthenticatorKeyEncryptionKey { get; }
    /// <summary>Staff members' two-factor recovery codes, stored only as keyed hashes.</summary>
    public byte[] RecoveryCodeHmacKey { get; }
    /// <summary>Seals the Data Protection key ring inside a backup archive (see Backups.KeyRingSeal).</summary>
    public byte[] BackupKeyRingKey { get; }
    /// <summary>Signs a backup archive's manifest (see Backups.BackupArchive.Mac): only the master key's holder makes an archive restore accepts.</summary>
    public byte[] BackupManifestMacKey { get; }
    /// <summary>Signs the outbox row id in a mail's VERP return path (bounce+TOKEN@domain), so a forged bounce names no other row.</summary>
    public byte[] ReturnPathKey { get; }
    /// <summary>Names a client network in the shared rate counters (<see cref="Data.RateWindows"/>) without storing its address.</summary>
    public byte[] RateWindowKey { get; }
    /// <summary>Derives the first-run setup code, the same on every instance (<see cref="Staff.SetupCode"/>).</summary>
    public byte[] SetupCodeKey { get; }

    private static byte[] Derive(byte[] master, string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, salt: null, info: Encoding.UTF8.GetBytes("NewsletterMigrator/" + purpose));

    /// <summary>The Development key's file in the data folder; never part of a backup.</summary>
    public const string DevelopmentKeyFile = "master.key";

    /// <summary>Reads App:MasterKey, or (Development only: the validator requires the key elsewhere) creates one once in the data folder.</summary>
    public static KeyRing Load(IOptions<AppOptions> options, ILogger<KeyRing> logger)
    {
        var app = options.Value;
        if (!string.IsNullOrEmpty(app.MasterKey)) return new KeyRing(Convert.FromBase64String(app.MasterKey));

        var path = Path.Combine(app.DataDirectory, DevelopmentKeyFile);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(app.DataDirectory);
            File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            logger.LogWarning("App:MasterKey is not set: generated a development key in {Path}. Back it up with the database; set App__MasterKey in production.", path);
        }
        return new KeyRing(Convert.FromBase64String(File.ReadAllText(path).Trim()));
    }
}
