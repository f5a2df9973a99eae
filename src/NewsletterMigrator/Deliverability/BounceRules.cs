using System.Text.RegularExpressions;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// C37: what a failed delivery means, from its status code and the remote server's words. Only the recipient's
/// own mailbox being gone is a hard bounce (it suppresses the address); refusals of our sender or of our mail
/// (5.1.7, 5.1.8, 5.7.x) are our problem and must never suppress, or one misconfiguration would empty the list;
/// everything else is soft (counted; three on separate days make it permanent elsewhere).
/// </summary>
internal static partial class BounceRules
{
    /// <summary>5.1.1 bad mailbox, 5.1.2 bad domain, 5.1.3 bad address syntax, 5.1.6 moved, 5.1.10 null MX / recipient not found (Exchange), 5.2.1 disabled.</summary>
    private static readonly HashSet<string> RecipientGone = ["1.1", "1.2", "1.3", "1.6", "1.10", "2.1"];

    /// <summary>5.1.7 bad sender mailbox syntax, 5.1.8 bad sender domain: refusals of us, not of the reader.</summary>
    private static readonly HashSet<string> SenderRefused = ["1.7", "1.8"];

    // Words checked in this order: when a text names both (rare), the soft reading wins, because a wrong hard
    // bounce suppresses a reader for good while a wrong soft one is only counted.
    private static readonly string[] MailboxFullWords = ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "postfach voll", "speicherplatz"];

    private static readonly string[] MailboxGoneWords =
    [
        "user unknown", "no such user", "unknown user", "does not exist", "recipient unknown", "invalid recipient",
        "account disabled", "benutzer unbekannt", "empfänger unbekannt", "empfaenger unbekannt", "existiert nicht",
        "unbekannte adresse", "deaktiviert",
        // Beyond the C37 list: the fixed phrases of qmail ("no mailbox here by that name") and Yahoo ("This user
        // doesn't have a … account"), which often come with a bare 554 or none at all.
        "no mailbox here by that name", "this user doesn't have",
    ];

    /// <summary>The kind of a failed delivery (Action: failed, or a provider's plain-text bounce).</summary>
    /// <param name="code">The enhanced code (5.1.1) or, without one, the basic SMTP code (550); null if none.</param>
    /// <param name="words">The remote server's words, for codes that say too little.</param>
    public static ReportKind KindOfFailure(string? code, string? words)
    {
        if (code is not null && EnhancedCode().Match(code) is { Success: true } enhanced)
        {
            var detail = enhanced.Groups[2].Value + "." + enhanced.Groups[3].Value;
            if (enhanced.Groups[1].Value != "5") return ReportKind.SoftBounce;
            if (RecipientGone.Contains(detail)) return ReportKind.HardBounce;
            if (SenderRefused.Contains(detail) || enhanced.Groups[2].Value == "7") return ReportKind.SenderProblem;
            if (detail != "0.0") return ReportKind.SoftBounce;
        }
        // A temporary refusal (4xx, 4.0.0) that was given up on says the mailbox may work later, whatever its words.
        if (code is not null && code.StartsWith('4')) return ReportKind.SoftBounce;
        return KindFromWords(words) ?? ReportKind.SoftBounce;
    }

    private static ReportKind? KindFromWords(string? words)
    {
        if (string.IsNullOrEmpty(words)) return null;
        if (ContainsAny(words, MailboxFullWords)) return ReportKind.SoftBounce;
        if (ContainsAny(words, MailboxGoneWords)) return ReportKind.HardBounce;
        return null;
    }

    public static bool HasBounceWords(string text) => ContainsAny(text, MailboxFullWords) || ContainsAny(text, MailboxGoneWords);

    private static bool ContainsAny(string text, string[] words)
    {
        foreach (var word in words)
        {
            if (text.Contains(word, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>The status code a report gives: the enhanced one when it is specific, else a specific one from the
    /// server's words ("550 5.1.1 …" under a vague "Status: 5.0.0"), else the vague one, else the basic SMTP code.</summary>
    public static string? BestCode(string? status, string? words)
    {
        var fromStatus = status is null ? null : EnhancedCode().Match(status) is { Success: true } m ? m.Value : null;
        if (fromStatus is not null && !IsVague(fromStatus)) return fromStatus;
        var fromWords = FirstEnhancedCode(words);
        if (fromWords is not null && !IsVague(fromWords)) return fromWords;
        return fromStatus ?? fromWords ?? BasicCode(words);
    }

    /// <summary>The first specific enhanced code in a text, else its first vague one (X.0.0).</summary>
    private static string? FirstEnhancedCode(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        string? vague = null;
        for (var m = EnhancedCode().Match(text); m.Success; m = m.NextMatch())
        {
            if (!IsVague(m.Value)) return m.Value;
            vague ??= m.Value;
        }
        return vague;
    }

    public static string? BasicCode(string? text) =>
        string.IsNullOrEmpty(text) ? null : BasicSmtpCode().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>Whether a line carries an SMTP reply or status code: the reason line of a plain-text bounce.</summary>
    public static bool HasCode(string line) => EnhancedCode().IsMatch(line) || BasicSmtpCode().IsMatch(line);

    private static bool IsVague(string code) => code.EndsWith(".0.0", StringComparison.Ordinal);

    // RFC 3463 class.subject.detail; not part of a longer dotted number (an IP address, a version).
    [GeneratedRegex(@"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)", RegexOptions.CultureInvariant)]
    private static partial Regex EnhancedCode();

    // RFC 5321 reply codes 4xx/5xx as servers write them: "550 ", "550-", "#550", "'550", Yahoo's "554:".
    [GeneratedRegex(@"(?<![\w.:])([45][0-5]\d)(?=[ \-:])", RegexOptions.CultureInvariant)]
    private static partial Regex BasicSmtpCode();
}
