using MimeKit;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Automatic answers (RFC 3834) that say nothing about the address: out-of-office notes, vacation replies, ticket
/// confirmations. Recognised by the headers their software sets, else by the subjects Exchange, Gmail and the
/// German providers' mail programs write.
/// </summary>
internal static class AutoReply
{
    private static readonly string[] SubjectStarts =
    [
        "out of office", "automatic reply", "automatische antwort", "abwesenheitsnotiz", "abwesend", "autoreply",
        "auto-reply", "auto reply", "auto:", "automatic response", "réponse automatique",
    ];

    private static readonly string[] SubjectContains = ["out of office", "abwesenheitsnotiz", "automatische antwort", "automatic reply"];

    public static bool Is(MimeMessage message)
    {
        var headers = message.Headers;
        if (headers["Auto-Submitted"] is { } autoSubmitted && !autoSubmitted.Split(';')[0].Trim().Equals("no", StringComparison.OrdinalIgnoreCase)) return true;
        if (headers.Contains("X-Autoreply") || headers.Contains("X-Autorespond")) return true;
        if (headers["Precedence"]?.Trim().Equals("auto_reply", StringComparison.OrdinalIgnoreCase) == true) return true;

        return HasAutoReplySubject(message);
    }

    /// <summary>Titled like an out-of-office note ("Automatic reply: …"): such a mail is no request of its own, whatever it quotes.</summary>
    public static bool HasAutoReplySubject(MimeMessage message)
    {
        var subject = message.Subject?.Trim() ?? "";
        return SubjectStarts.Any(s => subject.StartsWith(s, StringComparison.OrdinalIgnoreCase))
            || SubjectContains.Any(s => subject.Contains(s, StringComparison.OrdinalIgnoreCase));
    }
}
