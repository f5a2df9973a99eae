using MailKit.Security;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Deliverability;

/// <summary>The bounce mailbox (section "Bounces:Imap"); the reader is off while <see cref="Host"/> is empty.</summary>
public sealed class BounceMailboxOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 993;
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.SslOnConnect;
    public string? UserName { get; set; }
    public string? Password { get; set; }
    /// <summary>The folder the reports arrive in.</summary>
    public string Folder { get; set; } = "INBOX";

    /// <summary>
    /// The folder under which each mail is filed in the subfolder named for what it was (Processed/HardBounce, …,
    /// Processed/NeedsAttention for a person); created when missing, at the top of the account's personal namespace.
    /// </summary>
    public string OutcomeFolder { get; set; } = "Processed";

    /// <summary>How often the mailbox is checked when the server offers no IMAP IDLE (with IDLE a new mail is read at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the instance reading the mailbox holds it without renewing (renewed every third of it); after a crash another
    /// instance takes over once it has run out.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>A mailbox that cannot work as configured is found at start-up, naming the key; nothing is checked while it is off.</summary>
/// <param name="environment">Null in a bare service container (no host): checked as strictly as Production.</param>
public sealed class BounceMailboxOptionsValidator(IHostEnvironment? environment = null) : IValidateOptions<BouncesOptions>
{
    private const string Prefix = BouncesOptions.Section + ":Imap:";

    public ValidateOptionsResult Validate(string? name, BouncesOptions options)
    {
        var o = options.Imap;
        if (!o.Enabled) return ValidateOptionsResult.Success;
        var errors = new List<string>();
        if (o.Port is < 1 or > 65535)
            errors.Add($"{Prefix}Port must be between 1 and 65535 (was {o.Port}).");
        if (!Enum.IsDefined(o.Security) || o.Security == SecureSocketOptions.Auto)
            errors.Add($"{Prefix}Security must be None, SslOnConnect, StartTls or StartTlsWhenAvailable (was '{o.Security}').");
        // The password travels in the login: in clear text with None, and StartTlsWhenAvailable lets anyone on the path
        // strip the STARTTLS offer. Only a mailbox on this machine may go without TLS.
        else if ((environment is null || environment.IsProduction()) && o.Security is not (SecureSocketOptions.SslOnConnect or SecureSocketOptions.StartTls) && !IsLoopback(o.Host!))
            errors.Add($"{Prefix}Security must be SslOnConnect or StartTls in Production (was '{o.Security}'): the login would cross the network unencrypted. Only a loopback host (localhost, 127.0.0.1, [::1]) may use None.");
        if (string.IsNullOrWhiteSpace(o.UserName) || string.IsNullOrEmpty(o.Password))
            errors.Add($"{Prefix}UserName and {Prefix}Password must be set when {Prefix}Host is set (the login of the bounce mailbox).");
        if (string.IsNullOrWhiteSpace(o.Folder))
            errors.Add($"{Prefix}Folder must name the folder the reports arrive in (usually INBOX).");
        if (string.IsNullOrWhiteSpace(o.OutcomeFolder) || o.OutcomeFolder.Equals(o.Folder, StringComparison.OrdinalIgnoreCase))
            errors.Add($"{Prefix}OutcomeFolder must name a folder other than {Prefix}Folder (was '{o.OutcomeFolder}'); read mails are filed in its subfolders.");
        if (o.PollInterval < TimeSpan.FromSeconds(1))
            errors.Add($"{Prefix}PollInterval must be at least 1 second (was {o.PollInterval}).");
        if (o.LeaseDuration < TimeSpan.FromSeconds(3))
            errors.Add($"{Prefix}LeaseDuration must be at least 3 seconds (was {o.LeaseDuration}); it is renewed every third of it.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsLoopback(string host) =>
        host.Trim().Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim().Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
}
