using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// A test against a real IMAP server runs where Debian's Dovecot is installed. Elsewhere it is skipped with the reason
/// shown, unless REQUIRE_DOVECOT=1 (as in CI): then it runs and fails, so CI can never skip it silently.
/// </summary>
public sealed class DovecotFactAttribute : FactAttribute
{
    public DovecotFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("REQUIRE_DOVECOT") == "1") return;
        if (TestDovecot.MissingReason is { } reason) Skip = $"{reason}; set REQUIRE_DOVECOT=1 to make this a failure.";
    }
}
