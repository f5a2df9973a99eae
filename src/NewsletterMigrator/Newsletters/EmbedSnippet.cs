namespace NewsletterMigrator.Newsletters;

/// <summary>
/// What the settings page offers a portal to paste (issue 17): the framed sign-up box, and a plain link for portals
/// whose pages allow no frames. The URLs are built from App:PublicBaseUrl, which is also the origin embed.js trusts.
/// </summary>
public static class EmbedSnippet
{
    /// <summary>
    /// The frame's first height before embed-frame.js reports the real one: the German form with the privacy
    /// information folded measured 536 CSS px in a 390 px wide phone column (EmbedBrowserTests); a narrower column
    /// wraps a line or two more, so the box rarely jumps when the real height arrives.
    /// </summary>
    public const int InitialHeight = 560;

    /// <summary>
    /// The iframe and the resize script. embed.js has a stable, unversioned URL on purpose: a portal copies it once
    /// and keeps it, so it must be served with a short cache lifetime, never as immutable.
    /// </summary>
    public static string Frame(Uri baseUri, string slug, string title) =>
        $"<iframe src=\"{Url(baseUri, $"n/{slug}/embed")}\" title=\"{Encode(title)}\" width=\"100%\" height=\"{InitialHeight}\" loading=\"lazy\" data-newsletter-embed></iframe>\n"
        + $"<script src=\"{Url(baseUri, "js/embed.js")}\" async></script>";

    /// <summary>A link the portal styles itself through the class (no inline style: the portal's CSP may forbid it).</summary>
    public static string Link(Uri baseUri, string slug, string text) =>
        $"<a href=\"{Url(baseUri, $"n/{slug}")}\" class=\"newsletter-signup-link\">{Encode(text)}</a>";

    private static string Url(Uri baseUri, string relative) => new Uri(baseUri, relative).ToString();

    private static string Encode(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;").Replace("'", "&#39;");
}
