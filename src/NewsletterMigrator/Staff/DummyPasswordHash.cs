using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// The hash of a random password nobody knows, made once with the app's own <see cref="IPasswordHasher{TUser}"/>
/// and so with its iteration count: checking a password against it costs what checking a real account's
/// costs, and never succeeds.
/// </summary>
public sealed class DummyPasswordHash
{
    private static readonly StaffUser Nobody = new();
    private string? _hash;

    public void Verify(IPasswordHasher<StaffUser> hasher, string password)
    {
        var hash = LazyInitializer.EnsureInitialized(ref _hash, () => hasher.HashPassword(Nobody, RandomNumberGenerator.GetHexString(32)));
        _ = hasher.VerifyHashedPassword(Nobody, hash, password);
    }
}
