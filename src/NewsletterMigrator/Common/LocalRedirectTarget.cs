namespace NewsletterMigrator.Common;

/// <summary>
/// The one rule for a redirect target named in a request (the language switch's and the sign-in page's
/// returnUrl): a path on this host, or the caller's fallback. Stricter than <c>Url.IsLocalUrl</c> on purpose:
/// browsers drop tab, CR and LF from a URL ("/\t/evil" becomes "//evil", another host), and Kestrel refuses
/// a Location header with control or non-ASCII characters, which answered 500 (issue 13, point 6). Our own
/// links percent-encode everything else, so a real return address is never refused.
/// </summary>
public static class LocalRedirectTarget
{
    // Far above any path of ours with its query; a longer value is a probe, not a page to return to.
    public const int MaxLength = 2048;

    public static string OrFallback(string? candidate, string fallback) => IsLocalPath(candidate) ? candidate! : fallback;

    public static bool IsLocalPath(string? candidate) =>
        candidate is { Length: > 0 and <= MaxLength }
        && candidate[0] == '/'
        && !candidate.StartsWith("//", StringComparison.Ordinal)
        // Printable ASCII only, and no backslash: browsers read "/\host" like "//host".
        && candidate.All(c => c is > ' ' and < '\u007f' and not '\\');
}
