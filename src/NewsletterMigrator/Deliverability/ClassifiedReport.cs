using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// What one mail in the bounce mailbox says, read from the mail alone (no database): the classifier's answer.
/// </summary>
/// <param name="Kind">What the mail is.</param>
/// <param name="Recipient">The address the report is about (a DSN's Final-Recipient, an ARF report's Original-Rcpt-To, or the address a provider's plain-text bounce names); null if none.</param>
/// <param name="StatusCode">The enhanced status code (5.1.1), else the basic SMTP code (550); null if the report gives none.</param>
/// <param name="Diagnostic">The remote server's words (a DSN's Diagnostic-Code or the bounce text's reason line), unredacted: redact before storing.</param>
/// <param name="OriginalMessageId">The Message-ID of the mail the report is about (from the returned message or its headers), without angle brackets.</param>
/// <param name="Addressees">Where this mail was delivered (To, Delivered-To, X-Original-To, Envelope-To, X-Envelope-To) and the returned message's Return-Path (from the attached original or headers, else the Return-Path line a plain-text bounce quotes): the candidates for the VERP address. Each once; domains lower-cased, local parts as written (a VERP token is case-sensitive).</param>
/// <param name="UnsubscribeToken">For a mail to the unsubscribe address: the token from a subject "unsubscribe-TOKEN" (also after Re:/AW:).</param>
/// <param name="FeedbackType">For a complaint: the ARF Feedback-Type (abuse, fraud, …).</param>
public sealed record ClassifiedReport(
    ReportKind Kind,
    string? Recipient = null,
    string? StatusCode = null,
    string? Diagnostic = null,
    string? OriginalMessageId = null,
    IReadOnlyList<string>? Addressees = null,
    string? UnsubscribeToken = null,
    string? FeedbackType = null)
{
    public IReadOnlyList<string> Addressees { get; init; } = Addressees ?? [];
}
