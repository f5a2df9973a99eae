using System.Security.Cryptography;
using System.Text;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Staff;

/// <summary>
/// A code printed to the console at start-up while no staff account exists, so nobody can claim a fresh server from
/// the internet through the first-run page. It is derived from the master key rather than drawn at random, so every
/// instance behind a load balancer prints and accepts the same code (issue 18); only who holds the master key (or reads
/// the console) knows it, and the page closes for good once the first account exists.
/// </summary>
public sealed class SetupCode(KeyRing keys)
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    // 32 letters: each byte modulo 32 picks one without bias (256 is a multiple of 32).
    public string Value { get; } = string.Concat(HMACSHA256.HashData(keys.SetupCodeKey, "first-run-setup"u8).Take(12).Select(b => Alphabet[b % Alphabet.Length]));

    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(candidate.Trim().ToUpperInvariant()), Encoding.UTF8.GetBytes(Value));
}
