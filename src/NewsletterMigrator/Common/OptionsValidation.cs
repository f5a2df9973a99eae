using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Common;

// Each failure names the configuration key, so a wrong value is fixed without reading code.

public sealed class AppOptionsValidator(IHostEnvironment environment) : IValidateOptions<AppOptions>
{
    public ValidateOptionsResult Validate(string? name, AppOptions o)
    {
        var errors = new List<string>();
        if (!WebLink.TryParse(o.PublicBaseUrl, out var uri))
            errors.Add($"App:PublicBaseUrl must be an absolute http(s) URL (was '{o.PublicBaseUrl}').");
        // C46: RFC 8058 wants an https one-click unsubscribe URI, and every mail link carries a token.
        // A loopback host (localhost, 127.0.0.0/8, [::1]) cannot be reached from outside: the one exception, for local runs.
        else if (environment.IsProduction() && uri.Scheme != "https" && !uri.IsLoopback)
            errors.Add($"App:PublicBaseUrl must be an https URL in Production (was '{o.PublicBaseUrl}'): the links in mails carry tokens and one-click unsubscribe (RFC 8058) requires https. Only a loopback host (localhost, 127.0.0.1, [::1]) may use http.");
        if (string.IsNullOrWhiteSpace(o.DataDirectory))
            errors.Add("App:DataDirectory must not be empty.");
        if (string.IsNullOrEmpty(o.MasterKey) && !environment.IsDevelopment())
            errors.Add("App:MasterKey is not set. Generate one with 'openssl rand -base64 32' and pass it as the environment variable App__MasterKey (only Development creates one by itself).");
        if (!string.IsNullOrEmpty(o.MasterKey) && !MasterKeyIsValid(o.MasterKey))
            errors.Add("App:MasterKey must be 32 bytes encoded as base64 (generate one with: openssl rand -base64 32).");
        foreach (var proxy in o.KnownProxies)
        {
            if (!System.Net.IPAddress.TryParse(proxy, out _))
                errors.Add($"App:KnownProxies contains '{proxy}', which is not an IP address.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool MasterKeyIsValid(string value)
    {
        var buffer = new byte[64];
        return Convert.TryFromBase64String(value, buffer, out var written) && written == 32;
    }
}

public sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.ConnectionString))
            return ValidateOptionsResult.Fail("Database:ConnectionString must not be empty.");
        if (o.Provider == DatabaseProvider.Postgres)
        {
            try
            {
                var postgres = new Npgsql.NpgsqlConnectionStringBuilder(o.ConnectionString);
                if (string.IsNullOrWhiteSpace(postgres.Host) || string.IsNullOrWhiteSpace(postgres.Database))
                    return ValidateOptionsResult.Fail(
                        "Database:ConnectionString must name Host and Database when Database:Provider is Postgres, e.g. \"Host=db;Database=newsletter;Username=newsletter;Password=...\".");
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"Database:ConnectionString is not a valid PostgreSQL connection string (Database:Provider is Postgres): {ex.Message}");
            }
            return ValidateOptionsResult.Success;
        }
        try
        {
            _ = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(o.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"Database:ConnectionString is not a valid SQLite connection string: {ex.Message}");
        }
        return ValidateOptionsResult.Success;
    }
}

public sealed class SmtpOptionsValidator(IHostEnvironment environment) : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions o)
    {
        var errors = new List<string>();
        if (o.Port is < 1 or > 65535)
            errors.Add($"Smtp:Port must be between 1 and 65535 (was {o.Port}).");
        if (!Enum.IsDefined(o.Security))
            errors.Add("Smtp:Security must be None, StartTls or SslOnConnect.");
        if (o.MaxConnections is < 1 or > 50)
            errors.Add($"Smtp:MaxConnections must be between 1 and 50 (was {o.MaxConnections}).");
        if (o.MessagesPerSecond is <= 0 or > 10_000 || double.IsNaN(o.MessagesPerSecond))
            errors.Add($"Smtp:MessagesPerSecond must be greater than 0 and at most 10000 (was {o.MessagesPerSecond}).");
        if (o.MessagesPerHour < 0)
            errors.Add($"Smtp:MessagesPerHour must be 0 (no cap) or more (was {o.MessagesPerHour}).");
        if (!string.IsNullOrEmpty(o.UserName) && string.IsNullOrEmpty(o.Password))
            errors.Add("Smtp:Password must be set when Smtp:UserName is set.");
        // Production has no silent fallback: without a host, the pickup folder must be chosen on purpose.
        if (o.UsesPickup && environment.IsProduction() && string.IsNullOrWhiteSpace(o.PickupDirectory))
            errors.Add("Smtp:Host is empty. Set Smtp:Host to your SMTP server, or set Smtp:PickupDirectory to write mails to a folder.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class SendingOptionsValidator : IValidateOptions<SendingOptions>
{
    public ValidateOptionsResult Validate(string? name, SendingOptions o)
    {
        var errors = new List<string>();
        if (o.BatchSize is < 1 or > 10_000)
            errors.Add($"Sending:BatchSize must be between 1 and 10000 (was {o.BatchSize}).");
        if (o.FanOutBatchSize is < 1 or > 100_000)
            errors.Add($"Sending:FanOutBatchSize must be between 1 and 100000 (was {o.FanOutBatchSize}).");
        if (o.LeaseDuration <= TimeSpan.Zero)
            errors.Add("Sending:LeaseDuration must be positive.");
        if (o.FirstRetryDelay <= TimeSpan.Zero || o.MaxRetryDelay < o.FirstRetryDelay)
            errors.Add("Sending:FirstRetryDelay must be positive and not above Sending:MaxRetryDelay.");
        if (o.RetryBackoffFactor is < 1 or > 100 || double.IsNaN(o.RetryBackoffFactor))
            errors.Add($"Sending:RetryBackoffFactor must be between 1 and 100 (was {o.RetryBackoffFactor}).");
        if (o.PauseAfterConsecutiveFailures < 0)
            errors.Add("Sending:PauseAfterConsecutiveFailures must be 0 (never) or more.");
        if (!string.IsNullOrWhiteSpace(o.UnsubscribeMailbox) && !EmailAddress.TryNormalize(o.UnsubscribeMailbox, out _))
            errors.Add("Sending:UnsubscribeMailbox must be a single email address such as abmelden@portal.example, or empty.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public sealed class ConsentOptionsValidator : IValidateOptions<ConsentOptions>
{
    public ValidateOptionsResult Validate(string? name, ConsentOptions o) => o.DoiMailsPerAddressPerDay < 1
        ? ValidateOptionsResult.Fail($"Consent:DoiMailsPerAddressPerDay must be 1 or more (was {o.DoiMailsPerAddressPerDay}); it caps the confirmation mails one address gets per 24 hours (C42).")
        : ValidateOptionsResult.Success;
}

/// <summary>A DKIM key that cannot be read is found at start-up, not in the first campaign.</summary>
public sealed class DkimOptionsValidator : IValidateOptions<DkimOptions>
{
    public ValidateOptionsResult Validate(string? name, DkimOptions o)
    {
        if (!o.Enabled)
        {
            return string.IsNullOrWhiteSpace(o.Domain) && string.IsNullOrWhiteSpace(o.Selector)
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("Dkim:Domain and Dkim:Selector are set but Dkim:PrivateKeyPath is empty; set the key file or remove both.");
        }
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Domain)) errors.Add("Dkim:Domain must be set when Dkim:PrivateKeyPath is set (the d= domain, aligned with the sender address).");
        if (string.IsNullOrWhiteSpace(o.Selector)) errors.Add("Dkim:Selector must be set when Dkim:PrivateKeyPath is set (the s= selector of the DNS record).");
        try
        {
            // Checked even when the domain or selector is missing, so every problem shows at once.
            _ = Sending.DkimSigning.LoadSigner(new DkimOptions
            {
                PrivateKeyPath = o.PrivateKeyPath, Domain = o.Domain ?? "example.invalid", Selector = o.Selector ?? "selector",
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException or NotSupportedException or InvalidCastException)
        {
            errors.Add($"Dkim:PrivateKeyPath '{o.PrivateKeyPath}' could not be read as a PEM RSA private key: {ex.Message}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
