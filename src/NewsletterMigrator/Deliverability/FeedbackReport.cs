using MimeKit;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// RFC 5965 Abuse Reporting Format, as feedback loops send it (Yahoo CFL, Microsoft JMRP/SNDS, most large ISPs):
/// a reader pressed "this is spam". RFC 6591 auth-failure reports say our DKIM/SPF failed instead.
/// </summary>
internal static class FeedbackReport
{
    public static MimePart? FindReportPart(MimeMessage message) =>
        ReportText.Parts(message).OfType<MimePart>().FirstOrDefault(p => ReportText.Is(p, "message", "feedback-report"));

    public static ClassifiedReport Read(MimePart reportPart)
    {
        var fields = ReportText.FieldGroups(ReportText.Read(reportPart)).FirstOrDefault() ?? new(StringComparer.OrdinalIgnoreCase);
        var feedbackType = fields.TryGetValue("Feedback-Type", out var type) ? type.Trim().ToLowerInvariant() : null;
        var kind = feedbackType switch
        {
            // A report without its one required field is no report we can act on: a person looks at it.
            null or "" => ReportKind.Unknown,
            "auth-failure" => ReportKind.SenderProblem,
            // RFC 6430: the reader marked the mail as NOT spam; nothing to do, and certainly no complaint.
            "not-spam" => ReportKind.Unknown,
            // abuse, fraud, virus, other, and types of older drafts (opt-out): the reader does not want our mail.
            _ => ReportKind.Complaint,
        };
        var recipient = UnredactedAddress(fields.GetValueOrDefault("Original-Rcpt-To"))
            ?? UnredactedAddress(fields.GetValueOrDefault("Removal-Recipient"));
        return new ClassifiedReport(kind, recipient, FeedbackType: string.IsNullOrEmpty(feedbackType) ? null : feedbackType);
    }

    /// <summary>
    /// Feedback loops often hide the reader (RFC 6590 redaction): "redacted@example.net", "xxxxxxx@…", or a hash.
    /// Such an address names nobody and must not be suppressed: the report maps through the VERP return path instead.
    /// </summary>
    private static string? UnredactedAddress(string? value)
    {
        var address = ReportText.AddressIn(value);
        if (address is null) return null;
        var local = address[..address.IndexOf('@')];
        if (local.Contains("redacted", StringComparison.OrdinalIgnoreCase)) return null;
        return local.All(c => c is 'x' or 'X' or '*' or '#' or '.') ? null : address;
    }
}
