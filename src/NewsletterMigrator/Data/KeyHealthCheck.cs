using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Data;

/// <summary>
/// The database holds a value sealed with the master key when it was created. If the configured key
/// cannot open it, every stored phone number and every link is unusable: say so at once.
/// </summary>
public sealed class KeyHealthCheck(AppDbContext db, PhoneProtector phones) : IHealthCheck
{
    public const string KnownValue = "NewsletterMigrator key check";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await KeyMatchesAsync(db, phones, cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("App:MasterKey is not the key this database was created with.");

    /// <summary>Seals the known value on first use; afterwards checks that the key still opens it.</summary>
    public static async Task<bool> KeyMatchesAsync(AppDbContext db, PhoneProtector phones, CancellationToken ct = default)
    {
        var check = await db.KeyChecks.AsNoTracking().OrderBy(k => k.Id).FirstOrDefaultAsync(ct);
        if (check is null)
        {
            db.KeyChecks.Add(new KeyCheck { Sealed = phones.Encrypt(KnownValue), CreatedAtUtc = DateTime.UtcNow });
            await db.SaveChangesAsync(ct);
            return true;
        }
        try
        {
            return phones.Decrypt(check.Sealed) == KnownValue;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
