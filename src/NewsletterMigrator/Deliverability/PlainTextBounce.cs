using System.Text.RegularExpressions;
using MimeKit;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Bounces without a machine-readable part, as qmail, Yahoo, Exim (IONOS/1&amp;1, Strato, GMX/web.de), T-Online's
/// Smail and some Exchange servers still send them: a text that names the failed address, the remote server's reply
/// line, and then a copy of our mail or its headers. The formats differ in their banners but agree in shape, so one
/// reader serves them all: the report section runs up to the copy of the original; the recipient is the first
/// address in it that is neither the mailer daemon nor our own; the reason is the first line with a status code.
/// </summary>
internal static partial class PlainTextBounce
{
    private static readonly string[] BounceSubjects =
    [
        "undelivered mail", "undeliverable", "mail delivery failed", "delivery status notification", "unzustellbar",
        "nicht zustellbar", "failure notice", "returned mail", "delivery failure", "mail delivery failure",
        "mail failed, returning", "non remis", "unable to deliver",
    ];

    /// <summary>Where the report ends and the copy of our mail begins, per provider.</summary>
    private static readonly string[] OriginalFollows =
    [
        "--- Below this line is a copy of the message",       // qmail, Yahoo
        "This is a copy of the message",                       // Exim
        "--- The header of the original message is following", // GMX, web.de, 1&1
        "Message header follows",                              // T-Online
        "Message text follows",                                // T-Online, Smail
        "Original message headers:",                           // Exchange
        "----- Original message -----",
        "------ Original message ------",
        "Original message follows",
        "Kopie der Nachricht",                                 // German Exim templates
        "Ursprüngliche Nachricht",
    ];

    /// <summary>
    /// From a mailer daemon, or titled like a bounce and sent by a machine: only such mails are read as bounces. A
    /// person's mail is never a bounce by its subject: "WG: Unzustellbar?" from a reader who forwards our newsletter
    /// and writes that an address "existiert nicht mehr" must go to a person, not suppress the forwarder's own row.
    /// </summary>
    public static bool LooksLikeBounce(MimeMessage message)
    {
        if (message.Headers.Contains("X-Failed-Recipients")) return true;
        foreach (var mailbox in message.From.Mailboxes)
        {
            var local = mailbox.LocalPart ?? "";
            if (local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase) || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase)) return true;
            if (mailbox.Name?.Contains("Mail Delivery", StringComparison.OrdinalIgnoreCase) == true) return true;
        }
        var subject = message.Subject ?? "";
        return BounceSubjects.Any(s => subject.Contains(s, StringComparison.OrdinalIgnoreCase)) && SentByAMachine(message);
    }

    /// <summary>RFC 5321's null sender (every bounce is sent with MAIL FROM:&lt;&gt;), RFC 3834's Auto-Submitted, or a report part.</summary>
    private static bool SentByAMachine(MimeMessage message)
    {
        if (message.Headers["Return-Path"] is { } returnPath && returnPath.Trim() is "<>" or "") return true;
        if (message.Headers["Auto-Submitted"] is { } autoSubmitted && !autoSubmitted.Split(';')[0].Trim().Equals("no", StringComparison.OrdinalIgnoreCase)) return true;
        return ReportText.Parts(message).Any(p => ReportText.Is(p, "multipart", "report"));
    }

    /// <summary>What the text says: the failed recipient, the reason line and the copy of the original's headers.</summary>
    /// <param name="ours">Addresses the bounce was delivered to (our return path), never the failed recipient.</param>
    public static Findings Read(MimeMessage message, IReadOnlyCollection<string> ours)
    {
        var text = ReportText.HumanText(message);
        var (report, copy) = Split(text);

        var recipient = FailedRecipientsHeader(message, ours) ?? FirstForeignAddress(report, message, ours);
        var reason = ReasonLine(report);
        var code = BounceRules.BestCode(null, reason);
        return new Findings(
            // The whole report, not only the reason line: a vague or missing code leaves the words to decide (C37).
            BounceRules.KindOfFailure(code, report.Length <= 4000 ? report : report[..4000]),
            recipient, code, reason,
            MessageIdLine().Match(copy) is { Success: true } id ? id.Groups[1].Value : null,
            ReturnPathLine().Match(copy) is { Success: true } path ? path.Groups[1].Value : null);
    }

    /// <param name="Kind">Meaningful only when <see cref="NamesAFailure"/>.</param>
    public sealed record Findings(ReportKind Kind, string? Recipient, string? StatusCode, string? Diagnostic, string? OriginalMessageId, string? OriginalReturnPath)
    {
        /// <summary>A text that names neither a failed address nor a reason is no bounce we can read.</summary>
        public bool NamesAFailure => Recipient is not null || Diagnostic is not null;
    }

    /// <summary>The report part and the quoted original (both empty-safe); without a known banner, the original starts at its first header line.</summary>
    private static (string Report, string Copy) Split(string text)
    {
        var cut = -1;
        foreach (var marker in OriginalFollows)
        {
            var at = text.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut < 0 && QuotedHeaderStart().Match(text) is { Success: true } header) cut = header.Index;
        return cut < 0 ? (text, "") : (text[..cut], text[cut..]);
    }

    /// <summary>Exim names the failed addresses in a header of its own: the most reliable source where present.</summary>
    private static string? FailedRecipientsHeader(MimeMessage message, IReadOnlyCollection<string> ours) =>
        message.Headers["X-Failed-Recipients"] is { } value
            ? ReportText.Addresses(value).FirstOrDefault(a => !IsOurs(a, message, ours))
            : null;

    private static string? FirstForeignAddress(string report, MimeMessage message, IReadOnlyCollection<string> ours) =>
        ReportText.Addresses(report).FirstOrDefault(a => !IsOurs(a, message, ours));

    /// <summary>Our return path, the bounce's own sender, and the daemon or postmaster addresses a text may mention.</summary>
    private static bool IsOurs(string address, MimeMessage message, IReadOnlyCollection<string> ours)
    {
        var local = address[..address.IndexOf('@')];
        if (local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase) || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase)) return true;
        if (ours.Any(a => a.Equals(address, StringComparison.OrdinalIgnoreCase))) return true;
        return message.From.Mailboxes.Any(f => address.Equals(f.Address, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The first line with an SMTP or enhanced status code, else the first with words of the C37 lists.</summary>
    private static string? ReasonLine(string report)
    {
        string? worded = null;
        foreach (var line in report.AsSpan().EnumerateLines())
        {
            var trimmed = line.Trim();
            if (trimmed.IsEmpty) continue;
            var candidate = trimmed.ToString();
            if (BounceRules.HasCode(candidate)) return ReportText.OneLine(candidate);
            if (worded is null && BounceRules.HasBounceWords(candidate)) worded = ReportText.OneLine(candidate);
        }
        return worded;
    }

    [GeneratedRegex(@"^[ \t>]{0,4}Message-ID:[ \t]{0,10}<([^<>\s]{1,250})>", RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex MessageIdLine();

    [GeneratedRegex(@"^[ \t>]{0,4}Return-Path:[ \t]{0,10}<([^<>\s]{1,320}@[^<>\s]{1,255})>", RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex ReturnPathLine();

    [GeneratedRegex(@"^(?:Received|Return-Path|DKIM-Signature|Message-ID):", RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex QuotedHeaderStart();
}
