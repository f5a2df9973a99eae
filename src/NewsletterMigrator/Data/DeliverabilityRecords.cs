namespace NewsletterMigrator.Data;

/// <summary>What a mailbox provider told us about a mail after our SMTP server took it; stored as its number, so a new kind goes at the end.</summary>
public enum DeliveryEventKind { HardBounce, SoftBounce, Complaint, SenderRefusal }

/// <summary>
/// One thing the mailboxes said about one of our mails (issue 16): a hard or soft bounce, a complaint, or a refusal
/// of our sender. Written by the SMTP delivery (a refused recipient at RCPT TO) and by the bounce mailbox reader.
/// Names no reader (C26): the address is only a keyed hash, as on the suppression list, so the counts per campaign
/// and day, the rates and the soft-bounce rule (three on separate days) work without it.
/// </summary>
public sealed class DeliveryEvent
{
    public long Id { get; set; }
    public DeliveryEventKind Kind { get; set; }
    public DateTime AtUtc { get; set; }
    public int NewsletterId { get; set; }
    public int? CampaignId { get; set; }
    public long? OutboundMessageId { get; set; }
    /// <summary>The keyed hash of the address (SuppressionHash.Email); null when the report named none we could map.</summary>
    public byte[]? EmailHash { get; set; }
    /// <summary>The enhanced status code (5.1.1), or the basic one where the report had no other.</summary>
    public string? StatusCode { get; set; }
    /// <summary>smtp (refused while we sent) or mailbox (a report read from the bounce mailbox).</summary>
    public string Source { get; set; } = "";
}

/// <summary>What the classifier made of a mail in the bounce mailbox; also names the folder it is filed in.</summary>
public enum ReportKind { HardBounce, SoftBounce, SenderProblem, Delayed, Complaint, Unsubscribe, AutoReply, Unknown }

/// <summary>
/// One mail read from the bounce mailbox, keyed by the SHA-256 of its raw bytes and written in the same transaction
/// as what the mail caused: a mail seen again (after a crash between that commit and the move to its folder, or
/// copied back by a person) is filed again but never processed twice.
/// </summary>
public sealed class MailboxMail
{
    public long Id { get; set; }
    public required byte[] ContentSha256 { get; set; }
    public ReportKind Kind { get; set; }
    public DateTime ProcessedAtUtc { get; set; }
    /// <summary>The mail's own date (its Date header, else the server's arrival time).</summary>
    public DateTime? ReceivedAtUtc { get; set; }
    public long? OutboundMessageId { get; set; }
    /// <summary>What was done, in words that name no reader (e.g. "5.1.1: address suppressed").</summary>
    public string Outcome { get; set; } = "";
}

/// <summary>
/// The bounce mailbox as every instance sees it: one row (Id 1). The reader's lease (only one instance reads the
/// mailbox at a time), when it last got through and the last error, and the mails left for a person (C44).
/// </summary>
public sealed class MailboxState
{
    public const int SingleId = 1;

    public int Id { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAtUtc { get; set; }
    public DateTime? LastSuccessAtUtc { get; set; }
    public DateTime? LastErrorAtUtc { get; set; }
    /// <summary>The last connection or login error, in words that name no reader.</summary>
    public string? LastError { get; set; }
    /// <summary>Failed attempts since the last success: one dropped connection is not yet a mailbox the app cannot read.</summary>
    public int ConsecutiveErrors { get; set; }
    /// <summary>Mails in the folder for a person, as last counted, and the arrival time of the oldest.</summary>
    public int NeedsAttentionCount { get; set; }
    public DateTime? NeedsAttentionOldestUtc { get; set; }
}

/// <summary>
/// A mail in the bounce mailbox the processor failed on (a bug, a database error), keyed like <see cref="MailboxMail"/>
/// by the SHA-256 of its bytes. Kept in the database so the attempts survive a restart: after a few the mail is recorded
/// as Unknown and filed for a person instead of waiting in the inbox for ever (C44), and the dashboard counts it.
/// </summary>
public sealed class MailboxFailure
{
    public long Id { get; set; }
    public required byte[] ContentSha256 { get; set; }
    public int Attempts { get; set; }
    public DateTime LastAttemptAtUtc { get; set; }
    /// <summary>The type of the last error (e.g. DbUpdateException): its message could quote the mail.</summary>
    public string LastError { get; set; } = "";
    /// <summary>When the reader stopped trying and filed the mail for a person; null while it is still tried.</summary>
    public DateTime? GaveUpAtUtc { get; set; }
}
