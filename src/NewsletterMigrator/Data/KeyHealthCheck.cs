using Microsoft.Extensions.Diagnostics.HealthChecks;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Data;

/// <summary>Round-trips a value through the phone encryption, so a broken key ring shows up in /healthz.</summary>
public sealed class KeyHealthCheck(PhoneProtector phones) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        const string probe = "+490000000000";
        return Task.FromResult(phones.Decrypt(phones.Encrypt(probe)) == probe
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The master key cannot decrypt what it encrypted."));
    }
}
