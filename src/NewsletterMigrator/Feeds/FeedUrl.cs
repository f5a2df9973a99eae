namespace NewsletterMigrator.Feeds;

/// <summary>URL rules of the feed feature: which URLs may be fetched or put into a mail, and how one is logged.</summary>
public static class FeedUrl
{
    /// <summary>Only absolute http(s): no file:, ftp: or data: fetched by the server, no javascript: link in a mail.</summary>
    public static bool IsWebUrl(Uri? url) =>
        url is { IsAbsoluteUri: true } && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && url.Host.Length > 0;

    /// <summary>
    /// Scheme, host, port and path: a CMS feed URL often carries its secret in the query (<c>?token=…</c>) or in user
    /// information, neither of which may reach a log or the dashboard.
    /// </summary>
    public static string ForLog(Uri url) =>
        url.IsAbsoluteUri ? url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : "(relative URL)";

    /// <summary>A link or image reference of the document, made absolute against the item's base; null unless http(s).</summary>
    public static string? Resolve(Uri baseUrl, string? reference)
    {
        if (string.IsNullOrWhiteSpace(reference)) return null;
        if (!Uri.TryCreate(baseUrl, reference.Trim(), out var absolute)) return null;
        return IsWebUrl(absolute) ? absolute.AbsoluteUri : null;
    }

    /// <inheritdoc cref="Resolve(Uri, string?)"/>
    public static string? Resolve(Uri baseUrl, Uri? reference) =>
        reference is null ? null : reference.IsAbsoluteUri ? (IsWebUrl(reference) ? reference.AbsoluteUri : null) : Resolve(baseUrl, reference.OriginalString);
}
