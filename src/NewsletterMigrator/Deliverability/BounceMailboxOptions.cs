using MailKit.Security;

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

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}
