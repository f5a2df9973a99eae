namespace NewsletterMigrator.Data;

// All times are UTC DateTime: SQLite cannot compare DateTimeOffset in SQL and Npgsql wants UTC.

public sealed class Newsletter
{
    public int Id { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public required string SenderName { get; set; }
    public required string SenderAddress { get; set; }
    public string? ReplyTo { get; set; }

    // The legal identity (C38): until the controller, the Impressum and the privacy notice are complete,
    // nothing reaches a reader (see Newsletters/LegalReadiness).
    /// <summary>The controller's legal name, e.g. "Tagblatt Verlag GmbH".</summary>
    public string ControllerName { get; set; } = "";
    /// <summary>The controller's postal address (street, postcode, town), one or several lines.</summary>
    public string ControllerAddress { get; set; } = "";
    /// <summary>An email address readers can write to about their data.</summary>
    public string ControllerEmail { get; set; } = "";
    /// <summary>The data protection officer's name and contact; empty when the controller has none (Art. 37).</summary>
    public string DataProtectionOfficer { get; set; } = "";
    /// <summary>The competent supervisory authority; empty names the right to complain in general (Art. 77).</summary>
    public string SupervisoryAuthority { get; set; } = "";
    /// <summary>The Impressum as text (§5 DDG, §18(2) MStV); shown in every mail and reader page.</summary>
    public string Impressum { get; set; } = "";
    /// <summary>The Impressum's page on the portal; either this or <see cref="Impressum"/> (or both).</summary>
    public string ImpressumUrl { get; set; } = "";
    public string PrivacyNoticeUrl { get; set; } = "";
    /// <summary>The privacy notice's version label as the portal names it, e.g. "2026-11" (C7, C43).</summary>
    public string PrivacyNoticeVersion { get; set; } = "";
    /// <summary>Addresses an admin allows as test recipients besides staff accounts, one per line (C45).</summary>
    public string TestRecipients { get; set; } = "";
    public string DefaultRegion { get; set; } = "DE";
    public string DefaultLanguage { get; set; } = "de";
    /// <summary>Neutral WhatsApp invitation with the placeholders {name} and {link} (C11).</summary>
    public string InvitationMessage { get; set; } = "";
    /// <summary>The same invitation in English; empty means the German text is used.</summary>
    public string InvitationMessageEn { get; set; } = "";
    /// <summary>End of the migration: invitation links stop working, phone numbers are deleted (C16).</summary>
    public DateTime? MigrationEndsAtUtc { get; set; }
    public DateTime CreatedAtUtc { get; set; }

    /// <summary>
    /// The portal origins allowed to frame the embed page (issue 17), one per line, each a bare origin such as
    /// "https://www.portal.example"; empty: the embed page may be framed by nobody.
    /// </summary>
    public string EmbedOrigins { get; set; } = "";

    /// <summary>The SHA-256 (hex) of the logo in <see cref="NewsletterLogo"/>, which also fingerprints its URL; null: no logo.</summary>
    public string? LogoSha256 { get; set; }
    /// <summary>The logo's pixel size, so the page reserves its space before it loads (no layout shift).</summary>
    public int LogoWidth { get; set; }
    public int LogoHeight { get; set; }
    /// <summary>The logo is an SVG (served as .svg on pages); its PNG raster for mails is <see cref="NewsletterLogo.MailPng"/>.</summary>
    public bool LogoSvg { get; set; }
    /// <summary>An SVG logo's mail PNG size; 0 when it has none (mails then show the name). A PNG logo is its own mail image.</summary>
    public int LogoMailWidth { get; set; }
    public int LogoMailHeight { get; set; }

    // The brand (issue 21): reader pages, the DOI mail (still neutral, C8) and every newsletter mail.
    /// <summary>The primary colour as "#rrggbb" (lower case); empty: the default blue.</summary>
    public string BrandColour { get; set; } = "";
    /// <summary>A short line of the portal's own (e.g. "Tagblatt – Nachrichten aus der Region"), above the legal footer.</summary>
    public string BrandFooter { get; set; } = "";

    // The public archive (issue 21): sent issues without any personal link.
    public ArchiveMode Archive { get; set; }
    /// <summary>Search engines may index the archive; without it every archive page says noindex.</summary>
    public bool ArchiveIndexable { get; set; }

    // The welcome mail after a confirmed DOI (issue 21), never part of the DOI mail itself (C8).
    public bool WelcomeEnabled { get; set; }
    /// <summary>When the welcome mail was last switched on: readers confirmed before it do not get it.</summary>
    public DateTime? WelcomeEnabledAtUtc { get; set; }
    public string WelcomeSubject { get; set; } = "";
    public string WelcomeSubjectEn { get; set; } = "";
    public string WelcomeMarkdown { get; set; } = "";
    /// <summary>The welcome text in English; empty: English readers get the German text.</summary>
    public string WelcomeMarkdownEn { get; set; } = "";
    /// <summary>How many of the latest archive issues the welcome mail lists (0: none; only with an archive).</summary>
    public int WelcomeLatestIssues { get; set; } = 3;
}

/// <summary>Off: no archive, no "view in browser" link. Unlisted: each issue at its address, no list, no feed. Public: list and RSS feed too.</summary>
public enum ArchiveMode { Off, Unlisted, Public }

/// <summary>
/// The newsletter's logo bytes, apart from <see cref="Newsletter"/> so that loading a newsletter never loads the image.
/// In the database, not a folder: every instance serves it and a backup holds it.
/// </summary>
public sealed class NewsletterLogo
{
    public int NewsletterId { get; set; }
    public required byte[] Content { get; set; }
    /// <summary>The media type served, e.g. "image/png".</summary>
    public required string ContentType { get; set; }
    public required string Sha256 { get; set; }
    public DateTime UploadedAtUtc { get; set; }
    /// <summary>For an SVG logo: its PNG raster for mail clients that show no SVG (Gmail, Outlook); null for a PNG logo or when none could be drawn.</summary>
    public byte[]? MailPng { get; set; }
}

/// <summary>One immutable version of the consent statement and Art. 13 block as rendered (C7).</summary>
public sealed class ConsentText
{
    public int Id { get; set; }
    public int NewsletterId { get; set; }
    public required string Language { get; set; }
    public int Version { get; set; }
    public required string Statement { get; set; }
    public required string PrivacyInformation { get; set; }
    public string PrivacyNoticeUrl { get; set; } = "";
    public string PrivacyNoticeVersion { get; set; } = "";
    /// <summary>The Art. 21 objection note as shown beside the form (C4, C43).</summary>
    public string ObjectionNote { get; set; } = "";
    /// <summary>The controller line and Impressum as shown on the page (C39, C43).</summary>
    public string Impressum { get; set; } = "";
    /// <summary>The privacy information was built from the settings (C40), not written by an editor: it follows them.</summary>
    public bool Generated { get; set; }
    /// <summary>The consent statement was built from the settings (it names the controller, C2), not written by an editor.</summary>
    public bool StatementGenerated { get; set; }
    public required string Sha256 { get; set; }
    public DateTime CreatedAtUtc { get; set; }
    /// <summary>Set when a reader first sees this version; from then on it must never change.</summary>
    public DateTime? FirstShownAtUtc { get; set; }
}

public enum ImportStatus { Running, Completed, Failed }

public sealed class ImportBatch
{
    public int Id { get; set; }
    public int NewsletterId { get; set; }
    public required string FileName { get; set; }
    /// <summary>The kind of legal basis for the one invitation (C36), see <c>Importing.LegalBases</c>.</summary>
    public string LegalBasisKind { get; set; } = "";
    /// <summary>The editor's words, e.g. "existing WhatsApp newsletter consent, obtained until 2019-12-06".</summary>
    public string LegalBasis { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAtUtc { get; set; }
    public ImportStatus Status { get; set; }
    public int RowsRead { get; set; }
    public int Imported { get; set; }
    public int Duplicates { get; set; }
    public int Invalid { get; set; }
    public List<ImportIssue> Issues { get; set; } = [];

    // The job's state lives here, not in the process that runs it, so every instance shows its page (issue 18).

    /// <summary>The process running (or queuing) the import: <c>Importing.ImportLeases.Owner</c>; null once it has finished.</summary>
    public string? LeaseOwner { get; set; }
    /// <summary>Renewed every second or so while the owner lives; a Running batch past it is removed by any instance.</summary>
    public DateTime? LeaseExpiresAtUtc { get; set; }
    /// <summary>Set by any instance (the editor's Cancel); the owner sees it at its next renewal and stops.</summary>
    public bool CancelRequested { get; set; }
    /// <summary>When the job began reading the file; null while it waits in its instance's queue.</summary>
    public DateTime? StartedAtUtc { get; set; }
    public DateTime? FinishedAtUtc { get; set; }
    /// <summary>The size of the list and how much of it has been read: the progress bar and the time left.</summary>
    public long TotalBytes { get; set; }
    public long BytesRead { get; set; }
    /// <summary>Why a Failed batch ended (a resource key: Import_Cancelled, Import_Unreadable, …); its page says so in the editor's language.</summary>
    public string? OutcomeKey { get; set; }
}

/// <summary>A row the import did not use: its line, the reason code and the original value.</summary>
public sealed class ImportIssue
{
    public long Id { get; set; }
    public int ImportBatchId { get; set; }
    public int Line { get; set; }
    public required string Reason { get; set; }
    public string OriginalValue { get; set; } = "";
}

/// <summary>
/// One WhatsApp reader. The number is encrypted; the HMAC de-duplicates without revealing it (C19). The HMAC is
/// empty once the number is erased (C16, erasure); a contact is found by its number through <see cref="ContactPhone"/>.
/// </summary>
public sealed class Contact
{
    public Guid Id { get; set; }
    public int NewsletterId { get; set; }
    public int ImportBatchId { get; set; }
    public required byte[] PhoneHmac { get; set; }
    public byte[]? PhoneEncrypted { get; set; }
    public string? DisplayName { get; set; }
    /// <summary>
    /// The invitation link is derived from the id and <see cref="TokenGeneration"/> (C29) and checked by deriving it again,
    /// so nothing of it is stored; this ends it for good (an objection, an erasure).
    /// </summary>
    public bool InviteRevoked { get; set; }
    public int TokenGeneration { get; set; }
    public DateTime CreatedAtUtc { get; set; }
    public DateTime? InvitedAtUtc { get; set; }
    public DateTime? OpenedAtUtc { get; set; }
    public DateTime? SignedUpAtUtc { get; set; }
    public DateTime? ConfirmedAtUtc { get; set; }
    public DateTime? UnsubscribedAtUtc { get; set; }
    /// <summary>The reader objected to the invitation (STOP, C41): the number is suppressed and erased here.</summary>
    public DateTime? ObjectedAtUtc { get; set; }
    /// <summary>Meta answered that the number cannot receive WhatsApp messages (131026): the export offers it for another channel.</summary>
    public DateTime? NotOnWhatsAppAtUtc { get; set; }
}

/// <summary>
/// A number a newsletter knows, and its contact: the duplicate check of an import and the lookup of a contact by number
/// (privacy requests, STOP replies). Its own table so that an import can fill it in sorted runs (<see cref="IContactWriter"/>):
/// in the contacts table, whose rows go in in the list's order, its random keys cost one index page per imported row.
/// A number that is erased loses its row; an objected number keeps it (the suppression list holds the same hash).
/// </summary>
public sealed class ContactPhone
{
    public int NewsletterId { get; set; }
    public required byte[] PhoneHmac { get; set; }
    public Guid ContactId { get; set; }
}

public enum SubscriberStatus { Pending, Confirmed, Unsubscribed, Bounced }

public sealed class Subscriber
{
    public Guid Id { get; set; }
    public int NewsletterId { get; set; }
    /// <summary>The address as the reader typed it, with the domain normalised.</summary>
    public required string Email { get; set; }
    /// <summary>The whole address lower-cased: the unique key per newsletter.</summary>
    public required string EmailKey { get; set; }
    public required string Language { get; set; }
    public SubscriberStatus Status { get; set; }
    public Guid? ContactId { get; set; }
    public int TokenGeneration { get; set; }
    public required byte[] UnsubscribeTokenHash { get; set; }
    public byte[]? ConfirmTokenHash { get; set; }
    public int ConfirmGeneration { get; set; }
    public DateTime? ConfirmTokenExpiresAtUtc { get; set; }
    public DateTime CreatedAtUtc { get; set; }
    public DateTime? LastDoiQueuedAtUtc { get; set; }
    public DateTime? ConfirmedAtUtc { get; set; }
    public DateTime? UnsubscribedAtUtc { get; set; }
    public DateTime? FirstNewsletterSentAtUtc { get; set; }
    /// <summary>When this subscriber's welcome mail was queued (issue 21): set once, in the confirmation's transaction, so it is never queued twice.</summary>
    public DateTime? WelcomeQueuedAtUtc { get; set; }

    // C33: what reveals or changes personal data needs a fresh, short-lived link to the subscribed address.
    public int AccessGeneration { get; set; }
    public byte[]? AccessTokenHash { get; set; }
    public DateTime? AccessTokenExpiresAtUtc { get; set; }
    public DateTime? LastAccessLinkQueuedAtUtc { get; set; }

    /// <summary>A requested new address; the current one stays until the new one is confirmed (C14 rectification).</summary>
    public string? PendingEmail { get; set; }
    public int ChangeGeneration { get; set; }
    public byte[]? ChangeTokenHash { get; set; }
    public DateTime? ChangeTokenExpiresAtUtc { get; set; }
}

public enum ConsentEventKind { SignUp, DoiQueued, DoiSent, Confirmed, Withdrawn, Erased, AddressChangeRequested, AddressChanged }

/// <summary>Append-only proof of consent (C7). AppDbContext refuses to update or delete these rows.</summary>
public sealed class ConsentEvent
{
    public long Id { get; set; }
    public Guid SubscriberId { get; set; }
    public int NewsletterId { get; set; }
    public ConsentEventKind Kind { get; set; }
    public DateTime OccurredAtUtc { get; set; }
    public string? IpAddress { get; set; }
    public string? UserAgent { get; set; }
    /// <summary>The route name, never a URL with a token.</summary>
    public string? Page { get; set; }
    public Guid? InvitationContactId { get; set; }
    public int? ConsentTextId { get; set; }
    public string? ConsentTextSha256 { get; set; }
    public string? MessageId { get; set; }
    public string? TemplateVersion { get; set; }
    /// <summary>SHA-256 of the DOI mail's text with the link left out (C43), on the DOI-queued event.</summary>
    public string? DoiTextSha256 { get; set; }
    /// <summary>On a sign-up: the reader confirmed being 16 or older (C6, C43).</summary>
    public bool? AgeConfirmed { get; set; }
    /// <summary>On a sign-up: the privacy-notice version label shown (C43).</summary>
    public string? PrivacyNoticeVersion { get; set; }
    /// <summary>For withdrawal and erasure: link, one-click header, admin, mail, phone or WhatsApp.</summary>
    public string? Channel { get; set; }
    /// <summary>For a withdrawal: the campaign it is counted against in that campaign's report (issue 16), if any.</summary>
    public int? CampaignId { get; set; }
}

/// <summary>
/// Preparing: the outbox rows are being written in batches; the worker sends nothing of the campaign
/// until the fan-out is complete and it turns to Sending. Appended last so stored values keep their meaning.
/// </summary>
public enum CampaignStatus { Draft, Scheduled, Sending, Paused, Sent, Cancelled, Preparing }

public sealed class Campaign
{
    public int Id { get; set; }
    public int NewsletterId { get; set; }
    public required string Subject { get; set; }
    public string Preheader { get; set; } = "";
    public string BodyMarkdown { get; set; } = "";
    /// <summary>Sanitised HTML of the body, rendered once when sending starts.</summary>
    public string? BodyHtml { get; set; }
    public CampaignStatus Status { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAtUtc { get; set; }
    public DateTime? StartedAtUtc { get; set; }
    public DateTime? CompletedAtUtc { get; set; }
    public int RecipientCount { get; set; }
    /// <summary>When a scheduled campaign starts by itself (UTC; entered in Europe/Berlin).</summary>
    public DateTime? ScheduledForUtc { get; set; }
    /// <summary>Why the campaign is paused: the editor's action, or the worker's reason (SMTP down, sender refused, C37).</summary>
    public string? PauseReason { get; set; }
    /// <summary>Who paused it (a user name, "delivery", or CampaignHealth.Actor for the self-pause); null while not paused.</summary>
    public string? PausedBy { get; set; }
    /// <summary>
    /// When the campaign was last resumed from its self-pause: CampaignHealth weighs only mails sent after it, since the
    /// editor who resumed had the rates until then in front of them as the reason. A resume after any other pause
    /// leaves it as it was (see CampaignService.ResumeAsync).
    /// </summary>
    public DateTime? ResumedAtUtc { get; set; }
    /// <summary>The feed this campaign was made from (issue 19); null for one an editor wrote.</summary>
    public int? FeedId { get; set; }
    /// <summary>Breaking news: its mails overtake a digest or issue that is sending (<see cref="Sending.Outbox.BreakingPriority"/>).</summary>
    public bool Breaking { get; set; }
    /// <summary>The issue's stable part of its archive address (/n/{slug}/archive/{ArchiveSlug}), set when sending starts.</summary>
    public string? ArchiveSlug { get; set; }
    /// <summary>When an admin took the issue out of the public archive; null: shown (while the archive is on).</summary>
    public DateTime? ArchiveWithdrawnAtUtc { get; set; }
    public string? ArchiveWithdrawnBy { get; set; }
}

/// <summary>WhatsAppPaused: the alert to every admin that the WhatsApp queue stopped by itself (issue 14).</summary>
/// <summary>FeedDraftWaiting: the note to a newsletter's editors that a feed's campaign waits for approval (issue 19).</summary>
/// <summary>Welcome: the optional mail after a confirmed DOI (issue 21), once per subscriber.</summary>
public enum MessageKind { DoubleOptIn, Campaign, Test, AccessLink, AddressChange, WhatsAppPaused, FeedDraftWaiting, Welcome }

public enum MessageStatus { Queued, Leased, Sent, Failed, Cancelled }

/// <summary>The outbox: every mail is a row here first, delivered by the worker, never inside a request.</summary>
public sealed class OutboundMessage
{
    public long Id { get; set; }
    public MessageKind Kind { get; set; }
    /// <summary>Lower goes first: DOI and test mails before campaign rows.</summary>
    public int Priority { get; set; }
    public MessageStatus Status { get; set; }
    public int NewsletterId { get; set; }
    public int? CampaignId { get; set; }
    public Guid? SubscriberId { get; set; }
    public required string ToAddress { get; set; }
    public string Language { get; set; } = "de";
    /// <summary>Stable across retries, so a rare resend after a crash is recognisable.</summary>
    public required string MessageId { get; set; }
    public int Attempts { get; set; }
    public DateTime CreatedAtUtc { get; set; }
    public DateTime NextAttemptAtUtc { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAtUtc { get; set; }
    public DateTime? SentAtUtc { get; set; }
    public string? LastReply { get; set; }
}

public enum SuppressionKind { Email, Phone }

public sealed class Suppression
{
    public long Id { get; set; }
    public SuppressionKind Kind { get; set; }
    public required byte[] Hash { get; set; }
    public string Reason { get; set; } = "";
    public DateTime CreatedAtUtc { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTime AtUtc { get; set; }
    public required string UserName { get; set; }
    public required string Action { get; set; }
    public string Details { get; set; } = "";
}

/// <summary>A known value sealed with the master key, so a lost or wrong key is noticed at start-up.</summary>
public sealed class KeyCheck
{
    public int Id { get; set; }
    public required byte[] Sealed { get; set; }
    public DateTime CreatedAtUtc { get; set; }
}

/// <summary>
/// The pseudonym of an erased or expired subscriber (C18): the keyed hash of the address stands where the
/// address stood, so the untouched ledger rows of <see cref="SubscriberId"/> can still be found for a given
/// address until the proof period (C17) ends.
/// </summary>
public sealed class ErasedSubscriber
{
    public Guid SubscriberId { get; set; }
    public int NewsletterId { get; set; }
    public required byte[] EmailHash { get; set; }
    /// <summary>erasure (reader), erasure (admin) or unconfirmed (C15).</summary>
    public string Reason { get; set; } = "";
    public DateTime ErasedAtUtc { get; set; }
    /// <summary>The last mail sent to the address, for the C17 period.</summary>
    public DateTime? LastMailAtUtc { get; set; }
}

/// <summary>One run of the retention jobs (C15–C17) with what it removed.</summary>
/// <summary>"Run once across instances": the row of a job some instance holds until <see cref="ExpiresAtUtc"/> (<see cref="JobLeases"/>).</summary>
public sealed class JobLease
{
    public required string Name { get; set; }
    public required string Owner { get; set; }
    public DateTime ExpiresAtUtc { get; set; }
}

public sealed class RetentionRun
{
    public long Id { get; set; }
    public DateTime StartedAtUtc { get; set; }
    public DateTime? FinishedAtUtc { get; set; }
    /// <summary>schedule, or the admin who pressed "run now".</summary>
    public string Trigger { get; set; } = "";
    public int UnconfirmedDeleted { get; set; }
    public int PhoneNumbersDeleted { get; set; }
    public int ConsentProofsDeleted { get; set; }
    public int OutboxRowsScrubbed { get; set; }
    public string? Error { get; set; }
}

public enum WhatsAppStatus { Queued, Leased, Accepted, Sent, Delivered, Read, Failed, Cancelled }

/// <summary>
/// One template message through the WhatsApp Business Platform: the durable queue row and, after
/// acceptance, its delivery state from the webhook (by the wamid). At most one per contact unless an
/// admin resends with a reason (C11).
/// </summary>
public sealed class WhatsAppMessage
{
    public long Id { get; set; }
    public Guid ContactId { get; set; }
    public int NewsletterId { get; set; }
    public WhatsAppStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTime CreatedAtUtc { get; set; }
    public DateTime NextAttemptAtUtc { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAtUtc { get; set; }
    /// <summary>The Graph API's message id (wamid.…), the key of the status webhooks.</summary>
    public string? Wamid { get; set; }
    public DateTime? AcceptedAtUtc { get; set; }
    public DateTime? SentAtUtc { get; set; }
    public DateTime? DeliveredAtUtc { get; set; }
    public DateTime? ReadAtUtc { get; set; }
    public DateTime? FailedAtUtc { get; set; }
    public string? LastError { get; set; }
    /// <summary>The error code of the last refusal (Meta's code, see WhatsAppErrors), for the counts on the WhatsApp page.</summary>
    public int? LastErrorCode { get; set; }
    /// <summary>How often Meta's per-user marketing limit (131049) deferred this message by a day.</summary>
    public int DayDeferrals { get; set; }
    public string RequestedBy { get; set; } = "";
}

/// <summary>
/// Why the WhatsApp queue stands still; stored as its number, so a new kind goes at the end. Setup: the template or its
/// parameters do not match the settings (132000, 132001 …): nothing at Meta lifts it, an admin resumes once it is fixed.
/// </summary>
public enum WhatsAppPause { Template, Quality, Account, Objections, Failures, Manual, Setup }

/// <summary>
/// The WhatsApp business portfolio as every instance sees it: one row (Id 1). Meta's messaging limit and the
/// number's quality rating as last read (Graph API or webhook), and whether the queue is paused and why.
/// The WhatsApp worker locks this row while it reserves a batch against the moving 24-hour budget, so two
/// instances never both spend the same remainder.
/// </summary>
public sealed class WhatsAppAccount
{
    public const int SingleId = 1;

    public int Id { get; set; }
    /// <summary>Unique people the portfolio may message outside a service window in a moving 24 hours; -1 unlimited; null not known.</summary>
    public int? MessagingLimit { get; set; }
    /// <summary>Where <see cref="MessagingLimit"/> came from: "graph" or "webhook".</summary>
    public string? MessagingLimitSource { get; set; }
    public DateTime? MessagingLimitAtUtc { get; set; }
    /// <summary>GREEN, YELLOW, RED or UNKNOWN, as Meta rates the business number.</summary>
    public string? QualityRating { get; set; }
    public DateTime? QualityAtUtc { get; set; }
    /// <summary>When the Graph API was last asked (by any instance), and what went wrong if it did not answer.</summary>
    public DateTime? GraphCheckedAtUtc { get; set; }
    public string? GraphError { get; set; }
    public DateTime? PausedAtUtc { get; set; }
    public WhatsAppPause? PauseKind { get; set; }
    public string? PauseDetail { get; set; }
    /// <summary>Objections count from here on: an admin who resumes after an objection pause starts a fresh count.</summary>
    public DateTime? ObjectionsCountFromUtc { get; set; }
    /// <summary>
    /// No instance starts a batch before this: Meta's throughput (130429) and pair-rate (131056) answers concern the business
    /// number, so the instance that got one, or the webhook that brought one, quiets all of them.
    /// </summary>
    public DateTime? QuietUntilUtc { get; set; }
    /// <summary>Bumped by every batch reservation: the no-op write that takes the row's lock.</summary>
    public long Reservations { get; set; }
}

/// <summary>One successful <c>backup</c> run: the dashboard shows the last one's age, so it lives here, not in a log file.</summary>
public sealed class BackupRun
{
    public long Id { get; set; }
    public DateTime StartedAtUtc { get; set; }
    public DateTime FinishedAtUtc { get; set; }
    /// <summary>The archive's full path as the backing-up process saw it.</summary>
    public string FileName { get; set; } = "";
    public long SizeBytes { get; set; }
    /// <summary>The row counts of the snapshot, as JSON (table → rows), as the archive's manifest has them.</summary>
    public string Counts { get; set; } = "";
}

/// <summary>Who must sign in with a second factor; stored as its number, so a new choice goes at the end.</summary>
public enum TwoFactorRequirement { Nobody, Admins, AllStaff }

/// <summary>
/// The staff sign-in rules an admin sets in the admin area: one row (Id 1), created by the migration with
/// two-factor sign-in required for admins (ARCHITECTURE.md: "expected for admins").
/// </summary>
public sealed class StaffSecurityPolicy
{
    public const int SingleId = 1;

    public int Id { get; set; }
    public TwoFactorRequirement RequireTwoFactor { get; set; } = TwoFactorRequirement.Admins;
}
