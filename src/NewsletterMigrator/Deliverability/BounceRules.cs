using System.Text;
using System.Text.RegularExpressions;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// C37: what a failed delivery means, from its status code and the remote server's words. Only the recipient's
/// own mailbox being gone is a hard bounce (it suppresses the address); refusals of our sender or of our mail
/// (5.1.7, 5.1.8, x.7.x, and whatever names our sender, our IP or a policy) are our problem and must never
/// suppress, or one misconfiguration would empty the list; everything else is soft (counted; three on separate
/// days make it permanent elsewhere).
/// </summary>
/// <remarks>
/// The rules run from "ours" to "theirs", because a wrong hard bounce suppresses a working reader for good while a
/// wrong sender problem only pauses a campaign and alerts a person: first any sign of a refusal of us (a code or a
/// word anywhere in the reply), then temporary failures, then the recipient's mailbox.
/// </remarks>
internal static partial class BounceRules
{
    /// <summary>5.1.1 bad mailbox, 5.1.2 bad domain, 5.1.3 bad address syntax, 5.1.6 moved, 5.1.10 null MX / recipient not found (Exchange).</summary>
    private static readonly HashSet<string> RecipientGone = ["1.1", "1.2", "1.3", "1.6", "1.10"];

    /// <summary>5.1.7 bad sender mailbox syntax, 5.1.8 bad sender domain: refusals of us, not of the reader.</summary>
    private static readonly HashSet<string> SenderRefused = ["1.7", "1.8"];

    /// <summary>
    /// Codes large providers use for an unknown recipient although RFC 3463 means something else: Microsoft's
    /// "550 5.4.1 Recipient address rejected: Access denied" (directory-based edge blocking) and Outlook.com's
    /// "550 5.5.0 … mailbox unavailable". With them, as with X.0.0, the words decide.
    /// </summary>
    private static readonly HashSet<string> WordsDecide = ["0.0", "4.1", "5.0"];

    /// <summary>
    /// Words that name our sender, our IP, our domain's DNS or a policy. Phrases rather than single words, so that a
    /// user-unknown text that only mentions "the sender" in a generic sentence stays what it is. Host names and
    /// addresses are dropped from the text before these are looked for (a relay named spamfilter.example.net says nothing).
    /// </summary>
    private static readonly string[] SenderWords =
    [
        // Our envelope sender refused: sender verification callouts (cPanel/Exim), unknown sender domains, Postfix's
        // reject_unlisted_sender, and every refusal "after MAIL FROM" (the recipient has not even been named yet).
        "sender address", "sender domain", "sender verify", "sender verification", "verify sender", "verification failed for",
        "sender rejected", "sender denied", "sender blocked", "banned sender", "bad sender", "sender ip", "sender's ip",
        "sender's domain", "callout", "call-out", "mail from", "absenderadresse", "absender-adresse", "absenderdomain",
        "absender abgelehnt", "absender wurde", "absender ist", "absender nicht",
        // Authentication and content policy.
        "spf", "dkim", "dmarc", "policy", "richtlinie", "spam", "unsolicited", "complaints",
        // Our IP or host: block lists, reputation, reverse DNS, HELO, rate limits, a host that refuses us outright.
        "blocked", "block list", "blocklist", "blacklist", "black list", "denylist", "listed at", "listed on", "listed by",
        // "(bl " is T-Online's "554 IP=… (BL)": the closing parenthesis is trimmed with the word.
        "dnsbl", "spamhaus", "(bl ", "reputation", "reverse dns", "reverse lookup", "rdns", "ptr record", "helo", "ehlo",
        "ip address", "ip-adresse", "invalid dns", "not permitted", "rate limit", "no smtp service", "service not available",
        "will not accept delivery",
    ];

    // Words checked in this order: when a text names both (rare), the soft reading wins, because a wrong hard
    // bounce suppresses a reader for good while a wrong soft one is only counted.
    private static readonly string[] MailboxFullWords = ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "postfach voll", "speicherplatz"];

    private static readonly string[] MailboxGoneWords =
    [
        "user unknown", "no such user", "unknown user", "does not exist", "recipient unknown", "invalid recipient",
        "account disabled", "benutzer unbekannt", "empfänger unbekannt", "empfaenger unbekannt", "existiert nicht",
        "unbekannte adresse", "deaktiviert",
        // Beyond the C37 list, the fixed phrases of providers that come with a bare 550/554 or a misused code:
        // qmail, Yahoo ("This user doesn't have a … account", "This account has been disabled or discontinued"),
        // GMX/web.de/IONOS and Outlook.com ("Requested action not taken: mailbox unavailable", documented as an
        // address that does not exist), AOL ("MAILBOX NOT FOUND") and Microsoft's directory-based edge blocking.
        "no mailbox here by that name", "this user doesn't have", "has been disabled", "disabled or discontinued",
        "mailbox unavailable", "mailbox not found", "recipient address rejected: access denied",
    ];

    /// <summary>5.2.1 "mailbox disabled" is hard only when the words say so: AOL answers "521 5.2.1" to block our mail.</summary>
    private static readonly string[] DisabledWords = ["disabled", "inactive", "deaktiviert", "discontinued"];

    /// <summary>The kind of a failed delivery (Action: failed, or a provider's plain-text bounce).</summary>
    /// <param name="code">The enhanced code (5.1.1) or, without one, the basic SMTP code (550); null if none.</param>
    /// <param name="words">The remote server's words (a DSN's Diagnostic-Code, or the report part of a plain-text bounce).</param>
    /// <param name="status">A DSN's Status field when it is not already <paramref name="code"/>: a sender code there counts too.</param>
    public static ReportKind KindOfFailure(string? code, string? words, string? status = null)
    {
        if (RefusesUs(code) || RefusesUs(status) || AnyEnhancedCode(words, RefusesUs)) return ReportKind.SenderProblem;
        // RFC 7504: 521 "host does not accept mail" is how AOL and others block a sender; 556 "domain does not accept
        // mail" (null MX) says nothing of one mailbox. Neither ever suppresses a reader.
        var basic = code is { Length: 3 } && char.IsAsciiDigit(code[0]) ? code : BasicCode(words);
        if (basic == "521") return ReportKind.SenderProblem;
        if (!string.IsNullOrEmpty(words) && ContainsAny(WithoutHostsAndAddresses(words), SenderWords)) return ReportKind.SenderProblem;
        if (basic == "556") return ReportKind.SoftBounce;

        if (code is not null && EnhancedCode().Match(code) is { Success: true } enhanced)
        {
            var detail = enhanced.Groups[2].Value + "." + enhanced.Groups[3].Value;
            if (enhanced.Groups[1].Value != "5") return ReportKind.SoftBounce;
            if (detail == "2.1") return ContainsAny(words ?? "", DisabledWords) ? ReportKind.HardBounce : ReportKind.SoftBounce;
            if (RecipientGone.Contains(detail)) return ReportKind.HardBounce;
            if (!WordsDecide.Contains(detail)) return ReportKind.SoftBounce;
        }
        // A temporary refusal (4xx, 4.0.0) that was given up on says the mailbox may work later, whatever its words.
        if (code is not null && code.StartsWith('4')) return ReportKind.SoftBounce;
        return KindFromWords(words) ?? ReportKind.SoftBounce;
    }

    /// <summary>x.7.x (security or policy, also 4.7.x given up on), 5.1.7 and 5.1.8: a refusal of us.</summary>
    private static bool RefusesUs(string? code)
    {
        if (code is null || EnhancedCode().Match(code) is not { Success: true } m) return false;
        return m.Groups[2].Value == "7" || SenderRefused.Contains(m.Groups[2].Value + "." + m.Groups[3].Value);
    }

    private static bool AnyEnhancedCode(string? text, Func<string, bool> predicate)
    {
        if (string.IsNullOrEmpty(text)) return false;
        for (var m = EnhancedCode().Match(text); m.Success; m = m.NextMatch())
        {
            if (predicate(m.Value)) return true;
        }
        return false;
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

    /// <summary>
    /// The text with every word that is a host name, an address, a URL or a dotted number left out, so the sender
    /// words are looked for only in what the server says (a relay may be named spam-gw.example.net). One linear pass.
    /// </summary>
    private static string WithoutHostsAndAddresses(string text)
    {
        var kept = new StringBuilder(text.Length);
        foreach (var range in text.AsSpan().SplitAny(" \t\r\n<>[]\"'"))
        {
            var word = text.AsSpan(range).TrimEnd(".,;:!?)");
            if (word.IsEmpty || word.Contains('@') || word.Contains('/') || HasInnerDot(word)) continue;
            kept.Append(word).Append(' ');
        }
        return kept.ToString();
    }

    private static bool HasInnerDot(ReadOnlySpan<char> word)
    {
        var dot = word.IndexOf('.');
        return dot > 0 && dot < word.Length - 1;
    }

    /// <summary>The status code a report gives: a refusal of us wherever it appears (a "550 5.7.1" in the server's
    /// words beats a "Status: 5.1.1", C37), else the enhanced one when it is specific, else a specific one from the
    /// server's words ("550 5.1.1 …" under a vague "Status: 5.0.0"), else the vague one, else the basic SMTP code.</summary>
    public static string? BestCode(string? status, string? words)
    {
        var fromStatus = status is null ? null : EnhancedCode().Match(status) is { Success: true } m ? m.Value : null;
        if (RefusesUs(fromStatus)) return fromStatus;
        if (FirstEnhancedCode(words, RefusesUs) is { } refusal) return refusal;
        if (fromStatus is not null && !IsVague(fromStatus)) return fromStatus;
        var fromWords = FirstEnhancedCode(words, code => !IsVague(code)) ?? FirstEnhancedCode(words, _ => true);
        if (fromWords is not null && !IsVague(fromWords)) return fromWords;
        return fromStatus ?? fromWords ?? BasicCode(words);
    }

    private static string? FirstEnhancedCode(string? text, Func<string, bool> predicate)
    {
        if (string.IsNullOrEmpty(text)) return null;
        for (var m = EnhancedCode().Match(text); m.Success; m = m.NextMatch())
        {
            if (predicate(m.Value)) return m.Value;
        }
        return null;
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
