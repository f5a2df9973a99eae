using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Limits on guessing staff credentials (issue 13): per client IP on the sign-in and first-run pages,
/// and per account through Identity's lockout. Section <c>SignIn</c>.
/// </summary>
public sealed class StaffSignInOptions
{
    public const string Section = "SignIn";

    /// <summary>
    /// Sign-in and first-run POSTs per client IP (IPv6 per /64) and <see cref="AttemptWindow"/>; further
    /// attempts get 429 without a password check. 20 per 15 minutes lets a dozen editors behind one
    /// office NAT sign in at the same time, and holds a guesser to 80 tries an hour.
    /// </summary>
    public int AttemptsPerIp { get; set; } = 20;
    public TimeSpan AttemptWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Failed passwords in a row that lock an account, for <see cref="LockoutDuration"/>, even against the right password.</summary>
    public int LockoutAfterFailures { get; set; } = 5;
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Whole minutes for a message to staff, never 0.</summary>
    public static int Minutes(TimeSpan span) => Math.Max(1, (int)Math.Ceiling(span.TotalMinutes));
}

public sealed class StaffSignInOptionsValidator : IValidateOptions<StaffSignInOptions>
{
    public ValidateOptionsResult Validate(string? name, StaffSignInOptions o)
    {
        var errors = new List<string>();
        if (o.AttemptsPerIp is < 1 or > 10_000)
            errors.Add($"SignIn:AttemptsPerIp must be between 1 and 10000 (was {o.AttemptsPerIp}).");
        if (o.AttemptWindow < TimeSpan.FromSeconds(1) || o.AttemptWindow > TimeSpan.FromDays(1))
            errors.Add($"SignIn:AttemptWindow must be between 00:00:01 and 1.00:00:00 (was {o.AttemptWindow}).");
        if (o.LockoutAfterFailures is < 1 or > 100)
            errors.Add($"SignIn:LockoutAfterFailures must be between 1 and 100 (was {o.LockoutAfterFailures}).");
        if (o.LockoutDuration < TimeSpan.FromSeconds(1) || o.LockoutDuration > TimeSpan.FromDays(1))
            errors.Add($"SignIn:LockoutDuration must be between 00:00:01 and 1.00:00:00 (was {o.LockoutDuration}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
