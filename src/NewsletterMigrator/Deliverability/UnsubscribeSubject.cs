using System.Text.RegularExpressions;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Mail to the <c>mailto:</c> unsubscribe address of List-Unsubscribe (RFC 2369; Sending/MessageFactory writes
/// <c>?subject=unsubscribe-TOKEN</c>). Mail programs keep that subject, some add reply or forward prefixes.
/// </summary>
internal static partial class UnsubscribeSubject
{
    private const string Prefix = "unsubscribe-";

    /// <summary>The token, when the subject is exactly "unsubscribe-TOKEN" after any chain of Re:/AW:/Fwd:/WG: and
    /// around white space, and TOKEN has the form of our tokens (Common/TokenService); else null.</summary>
    public static string? TokenIn(string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Length > 1000) return null;
        var rest = subject.AsSpan().Trim();
        for (var m = ReplyPrefix().Match(rest.ToString()); m.Success; m = ReplyPrefix().Match(rest.ToString()))
        {
            rest = rest[m.Length..].TrimStart();
        }
        if (!rest.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) return null;
        var token = rest[Prefix.Length..].Trim().ToString();
        // TokenService decides what a token of ours looks like (43 base64url characters, no stray padding bits);
        // anything else is a person's words and is left for a person (C44), not dropped.
        return TokenService.TryHash(token) is null ? null : token;
    }

    // "Re:", "AW:", "Fwd:", "Fw:", "WG:", also "Re[2]:" and "Antw:"/"SV:"/"VS:"/"TR:" of other languages' clients.
    [GeneratedRegex(@"^(?:re|aw|fwd|fw|wg|antw|sv|vs|tr)[ \t]{0,3}(?:\[\d{1,3}\])?[ \t]{0,3}:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReplyPrefix();
}
