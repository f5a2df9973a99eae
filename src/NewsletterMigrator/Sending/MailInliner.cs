namespace NewsletterMigrator.Sending;

/// <summary>
/// Moves a mail's style sheet into style attributes with PreMailer.Net (issue 21): Gmail and Outlook ignore or strip
/// much of a head style sheet, inline styles reach every client. The media queries (narrow screens, dark mode) cannot
/// be inlined and stay in one style element in the head; clients that do not read it still get the inlined light design.
/// Costly (an HTML and CSS parse), so a campaign's frame is inlined once and personal links are put in afterwards
/// (<see cref="MessageFactory"/>).
/// </summary>
public static class MailInliner
{
    private const string DarkQuery = "@media (prefers-color-scheme: dark)";

    public static string Inline(string html) =>
        PreMailer.Net.PreMailer.MoveCssInline(html, removeStyleElements: true, preserveMediaQueries: true, removeComments: false).Html;

    /// <summary>
    /// The mail as a client in dark mode shows it, for the editor's preview: the dark rules apply unconditionally, so the
    /// preview does not depend on the editor's own system setting.
    /// </summary>
    public static string AsDark(string inlinedHtml) =>
        inlinedHtml.Replace(DarkQuery, "@media all", StringComparison.Ordinal);
}
