using System.ComponentModel.DataAnnotations;

namespace NewsletterMigrator.Common;

public sealed class AppOptions
{
    public const string Section = "App";

    /// <summary>Every link in a mail is built from this, never from the request's Host header (C29).</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:5000";

    /// <summary>Holds the SQLite file, the key ring, the master key (Development) and the mail pickup folder.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>32 random bytes, base64. From the environment in production; generated in Development.</summary>
    public string? MasterKey { get; set; }

    /// <summary>Proxies whose X-Forwarded-For / -Proto headers are trusted (IP addresses).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Send Strict-Transport-Security (behind an HTTPS reverse proxy).</summary>
    public bool UseHsts { get; set; }

    public Uri BaseUri => new(PublicBaseUrl.TrimEnd('/') + "/");

    public string Link(string relative) => new Uri(BaseUri, relative.TrimStart('/')).ToString();
}

/// <summary>SQLite for one instance with nothing else to run; PostgreSQL for several instances on one database.</summary>
public enum DatabaseProvider { Sqlite, Postgres }

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    public string ConnectionString { get; set; } = "Data Source=data/newsletter.db";
}

public enum SmtpSecurity { None, StartTls, SslOnConnect }

public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    /// <summary>Empty: mails are written as .eml files to <see cref="PickupDirectory"/>.</summary>
    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;
    public string? UserName { get; set; }
    public string? Password { get; set; }
    public string? PickupDirectory { get; set; }
    public int MaxConnections { get; set; } = 2;
    public double MessagesPerSecond { get; set; } = 20;
    /// <summary>Many providers cap mail per hour; 0 means no cap.</summary>
    public int MessagesPerHour { get; set; }

    public bool UsesPickup => string.IsNullOrWhiteSpace(Host);
}

public sealed class SendingOptions
{
    public const string Section = "Sending";

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
    public int BatchSize { get; set; } = 100;
    /// <summary>Outbox rows written per transaction when a campaign starts: 2,500 take about 35 ms here, under 100 ms even on a busy machine.</summary>
    public int FanOutBatchSize { get; set; } = 2_500;
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(72);
    /// <summary>Each retry waits this factor longer than the one before, up to <see cref="MaxRetryDelay"/>.</summary>
    public double RetryBackoffFactor { get; set; } = 2;
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);
    /// <summary>This many failures in a row (SMTP down) pause every sending campaign; 0 never pauses.</summary>
    public int PauseAfterConsecutiveFailures { get; set; } = 20;
    /// <summary>
    /// An address for unsubscribing by mail (C21): newsletter mails then carry a mailto next to the https
    /// link in List-Unsubscribe. Empty: https only. The app does not read this mailbox (see README).
    /// </summary>
    public string? UnsubscribeMailbox { get; set; }
}

/// <summary>DKIM signing (C24); off while <see cref="PrivateKeyPath"/> is empty.</summary>
public sealed class DkimOptions
{
    public const string Section = "Dkim";

    public string? Domain { get; set; }
    public string? Selector { get; set; }
    /// <summary>A PEM file with the RSA private key; keep it out of the repository.</summary>
    public string? PrivateKeyPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(PrivateKeyPath);
}

public sealed class ConsentOptions
{
    public const string Section = "Consent";

    public TimeSpan ConfirmLinkLifetime { get; set; } = TimeSpan.FromHours(72);
    /// <summary>A pending address gets at most one fresh DOI mail per interval (C30).</summary>
    public TimeSpan DoiResendInterval { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>Sign-up POSTs per client IP (IPv6 counted per /64) and hour; generous for carrier NAT (C31).</summary>
    public int SignUpsPerIpPerHour { get; set; } = 60;
    /// <summary>Sign-ups for one address and newsletter per hour, counted in the ledger (C31).</summary>
    public int SignUpsPerAddressPerHour { get; set; } = 5;
    /// <summary>Every sign-up answer takes at least this long, so timing tells nothing about the address (C30).</summary>
    public TimeSpan SignUpMinimumDuration { get; set; } = TimeSpan.FromMilliseconds(400);
    /// <summary>
    /// How long a reader page may use a newsletter and its consent texts from memory (Consent.ReaderCache). An edit in this
    /// process takes effect at once; this bounds how long another instance shows the old state. 0 turns the cache off.
    /// </summary>
    public TimeSpan ReaderCacheLifetime { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>
    /// DOI-type mails (sign-up DOI, a new link after expiry, DOI to a new address) per address and 24 hours,
    /// across all paths (C42): a repeated DOI mail may itself count as advertising (OLG München 29 U 1682/12).
    /// </summary>
    public int DoiMailsPerAddressPerDay { get; set; } = 3;
}
