using System.Text.RegularExpressions;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Mail to the <c>mailto:</c> unsubscribe address of List-Unsubscribe (RFC 2369; Sending/MessageFactory writes
/// <c>?subject=unsubscribe-TOKEN</c>). Mail programs keep that subject, but many add to it: reply and forward
/// prefixes in every language ("Antwort:" of Lotus Notes, "[Fwd: …]"), a spam filter's "[SPAM]" or
/// "*****SPAM*****", a reader's "Bitte" or a trailing full stop.
/// </summary>
internal static partial class UnsubscribeSubject
{
    /// <summary>The first token of our form (Common/TokenService) that follows "unsubscribe-" anywhere in the subject
    /// as a word of its own; else null. Taking it from anywhere is safe: a token is 256 random bits that only the
    /// reader's own mail carried, and the unsubscribe looks it up; a made-up one matches nobody.</summary>
    public static string? TokenIn(string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Length > 1000) return null;
        for (var m = Token().Match(subject); m.Success; m = m.NextMatch())
        {
            // TokenService decides what a token of ours looks like (43 base64url characters, no stray padding bits);
            // anything else is a person's words and is left for a person (C44), not dropped.
            var token = m.Groups[1].Value;
            if (TokenService.TryHash(token) is not null) return token;
        }
        return null;
    }

    // Not glued to a longer word on either side: "xunsubscribe-…" or a 44th token character is no token of ours.
    [GeneratedRegex(@"(?<![\w-])unsubscribe-([A-Za-z0-9_-]{43})(?![\w-])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Token();
}
