namespace NewsletterMigrator.Common;

/// <summary>
/// The one rule for a web address a staff member or operator enters (privacy notice, Impressum page, the
/// WhatsApp API base, the public base URL): an absolute http(s) URL a reader's browser opens as typed.
/// <c>Uri.TryCreate</c> alone is too lenient for a link shown to readers: it repairs "http:host" and
/// "https:/host", accepts "user@host" (a link that names one site and opens another) and a backslash that
/// browsers read as a slash, and it quietly drops a tab or line break that would end up in a mail or an
/// invitation text (issue 13, point 9).
/// </summary>
public static class WebLink
{
    // The settings form allows 2000 characters; a real privacy-notice address is far shorter.
    public const int MaxLength = 2000;

    public static bool IsValid(string? value) => TryParse(value, out _);

    public static bool TryParse(string? value, out Uri uri)
    {
        uri = null!;
        var trimmed = value?.Trim();
        if (trimmed is not { Length: > 0 and <= MaxLength }) return false;
        // Written out with "//": anything the parser would have to repair is a typo, not an address.
        if (!trimmed.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) return false;
        if (trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '\\')) return false;
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")) return false;
        if (parsed.UserInfo.Length > 0 || parsed.Host.Length == 0 || parsed.Host.StartsWith('.') || parsed.Host.EndsWith("..", StringComparison.Ordinal)) return false;
        uri = parsed;
        return true;
    }
}
