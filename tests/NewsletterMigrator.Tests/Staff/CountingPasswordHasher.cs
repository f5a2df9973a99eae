using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The app's real <see cref="PasswordHasher{TUser}"/>, wrapped so a test can see which stored hash each
/// sign-in verified a password against. It changes nothing about hashing or the result.
/// </summary>
public sealed class CountingPasswordHasher(IPasswordHasher<StaffUser> real, PasswordChecks checks) : IPasswordHasher<StaffUser>
{
    public string HashPassword(StaffUser user, string password) => real.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(StaffUser user, string hashedPassword, string providedPassword)
    {
        checks.Record(hashedPassword);
        return real.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}

/// <summary>Every verification in order: the stored hash and the PBKDF2 iteration count written into it.</summary>
public sealed class PasswordChecks
{
    private readonly ConcurrentQueue<(string Hash, int Iterations)> _checks = new();

    public IReadOnlyList<(string Hash, int Iterations)> All => [.. _checks];

    public void Record(string hashedPassword) => _checks.Enqueue((hashedPassword, IterationCount(hashedPassword)));

    /// <summary>Identity's version 3 format: 0x01, PRF (4 bytes), iteration count (4 bytes, big-endian), salt length, salt, subkey.</summary>
    private static int IterationCount(string hashedPassword)
    {
        var bytes = Convert.FromBase64String(hashedPassword);
        return bytes[0] == 0x01 ? (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(5, 4)) : -1;
    }
}
