namespace NewsletterMigrator.Archive;

/// <summary>The headers every archive answer carries (issue 21).</summary>
public static class ArchiveResponses
{
    /// <summary>
    /// X-Robots-Tag: noindex unless the newsletter's archive is public and opted in: the header covers what has no
    /// &lt;meta&gt; (the feed, a 404 or 410), the page's meta tag says the same (the layout, <see cref="Pages.ReaderPage.AllowIndexing"/>).
    /// </summary>
    public static void Robots(HttpResponse response, bool indexable)
    {
        if (indexable) response.Headers.Remove("X-Robots-Tag");
        else response.Headers["X-Robots-Tag"] = "noindex";
    }

    /// <summary>
    /// Public for five minutes: the same copy for every reader (no cookie, no token, nothing personal on it), so a proxy may
    /// keep it; a withdrawal reaches every cache within that time. A page varies by language (cookie or Accept-Language),
    /// which its frame follows; the feed does not.
    /// </summary>
    public static void Cacheable(HttpResponse response, bool byLanguage = true)
    {
        response.Headers.CacheControl = "public, max-age=300";
        if (byLanguage) response.Headers.Append("Vary", "Accept-Language, Cookie");
    }

    /// <summary>The house policy, but images from any https origin (<see cref="SecurityHeaders.PolicyWithRemoteImages"/>).</summary>
    public static void AllowRemoteImages(HttpResponse response) =>
        response.Headers.ContentSecurityPolicy = SecurityHeaders.PolicyWithRemoteImages;
}
