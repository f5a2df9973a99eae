using MimeKit;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Reads what a mail in the bounce mailbox is (issue 16.2, C37, C44): DSN, complaint, unsubscribe, auto-reply or
/// other. Pure: the mail alone decides, no database and no configuration, so the fixture set pins every rule.
/// </summary>
/// <remarks>
/// The order matters. Machine reports come first, because they quote the mail they are about and carry
/// Auto-Submitted themselves: a DSN about a mail titled "unsubscribe-…" is still a DSN. Then the unsubscribe
/// subject (unless it is an out-of-office title), because a reader who asks to leave must be heard even from a
/// postmaster address or with an auto-reply header set by their mail program. Then plain-text bounces, auto-replies, and the rest for a person.
/// </remarks>
public static class ReportClassifier
{
    public static ClassifiedReport Classify(MimeMessage message)
    {
        var addressees = new List<string>();
        try
        {
            AddDeliveryAddresses(addressees, message);
            var returned = ReturnedMessage(message);
            if (returned is not null) AddAddresses(addressees, returned.Headers["Return-Path"]);
            var report = Decide(message, returned, addressees.ToArray(), out var quotedReturnPath);
            // Without an attached original, the Return-Path line quoted in the bounce text carries the VERP address.
            if (returned is null) AddAddresses(addressees, quotedReturnPath);
            return report with { Addressees = addressees };
        }
        catch (Exception)
        {
            // Whatever a sender puts in a mail must not stop the mailbox reader: a mail we cannot read is left for
            // a person, with what we did learn of where it was delivered.
            return new ClassifiedReport(ReportKind.Unknown, Addressees: addressees);
        }
    }

    private static ClassifiedReport Decide(MimeMessage message, MimeMessage? returned, IReadOnlyCollection<string> delivered, out string? quotedReturnPath)
    {
        quotedReturnPath = null;
        var originalId = ReportText.BareMessageId(returned?.MessageId);

        if (DeliveryStatusReport.FindStatusPart(message) is { } statusPart && DeliveryStatusReport.Read(statusPart) is { } dsn)
        {
            if (returned is null)
            {
                // A DSN that attaches neither the mail nor its headers may still quote the headers in its text.
                var quoted = PlainTextBounce.Read(message, delivered);
                quotedReturnPath = quoted.OriginalReturnPath;
                originalId = quoted.OriginalMessageId;
            }
            return dsn with { OriginalMessageId = originalId };
        }
        if (FeedbackReport.FindReportPart(message) is { } feedbackPart)
        {
            return FeedbackReport.Read(feedbackPart) with { OriginalMessageId = originalId };
        }
        // RFC 8098 read receipts: automatic, and about nothing we act on.
        if (ReportText.Parts(message).Any(p => ReportText.Is(p, "message", "disposition-notification") || ReportText.Is(p, "message", "global-disposition-notification")))
        {
            return new ClassifiedReport(ReportKind.AutoReply, OriginalMessageId: originalId);
        }
        // The token counts wherever it stands in the subject, so an out-of-office answer titled "Automatic reply:
        // unsubscribe-…" would look like a request: it is none, and goes on to the auto-replies. Only the subject
        // says so here, since a reader's own unsubscribe mail may carry an Auto-Submitted header set by their program.
        if (UnsubscribeSubject.TokenIn(message.Subject) is { } token && !AutoReply.HasAutoReplySubject(message))
        {
            return new ClassifiedReport(ReportKind.Unsubscribe, UnsubscribeToken: token);
        }
        if (PlainTextBounce.LooksLikeBounce(message))
        {
            var bounce = PlainTextBounce.Read(message, delivered);
            quotedReturnPath = bounce.OriginalReturnPath;
            originalId ??= bounce.OriginalMessageId;
            // A daemon's mail we cannot read as a bounce goes to a person rather than being taken for an auto-reply.
            return bounce.NamesAFailure
                ? new ClassifiedReport(bounce.Kind, bounce.Recipient, bounce.StatusCode, bounce.Diagnostic, originalId)
                : new ClassifiedReport(ReportKind.Unknown, OriginalMessageId: originalId);
        }
        if (AutoReply.Is(message)) return new ClassifiedReport(ReportKind.AutoReply);
        return new ClassifiedReport(ReportKind.Unknown);
    }

    /// <summary>The mail the report returns (message/rfc822, message/global, or text/rfc822-headers, which MimeKit reads as a message of headers).</summary>
    private static MimeMessage? ReturnedMessage(MimeMessage message) =>
        ReportText.Parts(message).OfType<MessagePart>().Select(p => p.Message).FirstOrDefault(m => m is not null);

    private static readonly string[] DeliveryHeaders = ["To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"];

    /// <summary>
    /// Every address the mail was delivered to; with the Return-Path of the mail it returns, one of them is the VERP
    /// address (bounce+TOKEN@domain) that names our outbox row. Decoding it is not the classifier's business.
    /// </summary>
    private static void AddDeliveryAddresses(List<string> found, MimeMessage message)
    {
        foreach (var header in message.Headers)
        {
            if (DeliveryHeaders.Any(h => header.Field.Equals(h, StringComparison.OrdinalIgnoreCase))) AddAddresses(found, header.Value);
        }
    }

    private static void AddAddresses(List<string> found, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return;
        if (InternetAddressList.TryParse(value, out var list))
        {
            foreach (var mailbox in list.Mailboxes) Add(found, mailbox.Address);
        }
        else
        {
            foreach (var address in ReportText.Addresses(value)) Add(found, address);
        }
    }

    /// <summary>Adds an address once. The domain compares without case; the local part keeps it, since a VERP token is case-sensitive.</summary>
    private static void Add(List<string> found, string? address)
    {
        if (string.IsNullOrWhiteSpace(address) || !address.Contains('@')) return;
        var at = address.LastIndexOf('@');
        var normalized = address[..at].Trim() + "@" + address[(at + 1)..].Trim().ToLowerInvariant();
        if (!found.Contains(normalized, StringComparer.Ordinal)) found.Add(normalized);
    }
}
