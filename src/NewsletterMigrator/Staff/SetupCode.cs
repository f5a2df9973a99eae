using System.Security.Cryptography;

namespace NewsletterMigrator.Staff;

/// <summary>
/// A one-time code printed to the console at start-up while no staff account exists, so nobody can
/// claim a fresh server from the internet through the first-run page.
/// </summary>
public sealed class SetupCode
{
    public string Value { get; } = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 12);

    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(candidate.Trim().ToUpperInvariant()), System.Text.Encoding.UTF8.GetBytes(Value));
}
