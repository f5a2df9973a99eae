namespace NewsletterMigrator.Deliverability;

/// <summary>Where bounces go and how the app hears back from the mailboxes (issue 16); section "Bounces".</summary>
public sealed class BouncesOptions
{
    public const string Section = "Bounces";

    /// <summary>The local part before "+token" of the VERP return path (bounce+TOKEN@domain).</summary>
    public string ReturnPathLocalPart { get; set; } = "bounce";

    /// <summary>The domain of the VERP return path; empty: the envelope sender stays the newsletter's sender address.</summary>
    public string? ReturnPathDomain { get; set; }

    /// <summary>The IMAP mailbox the return path, the feedback loops and the unsubscribe address deliver to; off while its host is empty.</summary>
    public BounceMailboxOptions Imap { get; set; } = new();

    /// <summary>Soft bounces of one address on this many separate Berlin days within <see cref="SoftBounceWindow"/> count as a hard bounce.</summary>
    public int SoftBounceLimit { get; set; } = 3;

    public TimeSpan SoftBounceWindow { get; set; } = TimeSpan.FromDays(30);

    // --- A campaign pauses itself (issue 16.3; CampaignHealth, checked by CampaignPauseLimitsValidator) ---

    /// <summary>
    /// A sending campaign pauses itself once its complaints reach this share of its accepted mails, in percent.
    /// 0.3: the rate Google and Yahoo tell bulk senders never to reach (see NewsletterReputation).
    /// </summary>
    public decimal PauseAtComplaintPercent { get; set; } = 0.3m;

    /// <summary>A sending campaign pauses itself once its hard bounces reach this share of its accepted mails, in percent.</summary>
    public decimal PauseAtHardBouncePercent { get; set; } = 5m;

    /// <summary>
    /// No self-pause before this many of the campaign's mails were accepted (since the last resume): the first complaint
    /// among 20 mails is 5 % and says nothing yet.
    /// </summary>
    public int RateMinimumAccepted { get; set; } = 200;

    // --- end of the self-pause block ---

    public bool VerpEnabled => !string.IsNullOrWhiteSpace(ReturnPathDomain);
}
