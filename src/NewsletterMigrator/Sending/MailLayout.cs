using System.Net;
using System.Text;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// The HTML and text frame of every mail a reader gets (issue 21): the newsletter's logo (or name) under a strip in its
/// colour, the body, and the footer with the brand line, the unsubscribe link and the Impressum. Written as a table
/// layout with one style sheet; <see cref="MailInliner"/> moves the sheet into style attributes, which is what Gmail,
/// Outlook and the GMX/WEB.DE web mailers read, and keeps only the media queries (dark mode, narrow screens) in the head.
/// </summary>
public sealed class MailLayout(IStringLocalizer<SharedResource> text, IOptions<AppOptions> app)
{
    /// <summary>The logo is shown 40 pixels high in mail, as on the reader pages; very wide word marks are capped at this width.</summary>
    private const int LogoHeight = 40;
    private const int LogoMaxWidth = 280;

    /// <summary>
    /// The whole mail, styles inlined. <paramref name="viewInBrowserUrl"/> (the public copy in the archive) adds the
    /// "view in browser" line above the card; null for mails that have no public copy.
    /// </summary>
    public string Html(Newsletter newsletter, string preheader, string bodyHtml, string footerHtml, string? viewInBrowserUrl = null) =>
        MailInliner.Inline(Styled(newsletter, preheader, bodyHtml, footerHtml, viewInBrowserUrl));

    /// <summary>The same mail before inlining: one style sheet in the head, classes on the elements.</summary>
    internal string Styled(Newsletter newsletter, string preheader, string bodyHtml, string footerHtml, string? viewInBrowserUrl)
    {
        var colour = BrandColour.Of(newsletter.BrandColour);
        var browserRow = viewInBrowserUrl is null
            ? ""
            : $"""<tr><td class="browser-link"><a href="{Enc(viewInBrowserUrl)}">{Enc(text["Mail_ViewInBrowser"])}</a></td></tr>""";
        return $$"""
            <!DOCTYPE html>
            <html lang="{{Enc(Languages.Current)}}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="x-apple-disable-message-reformatting">
            <meta name="color-scheme" content="light dark">
            <meta name="supported-color-schemes" content="light dark">
            <title>{{Enc(newsletter.Name)}}</title>
            <style>{{StyleSheet(colour)}}</style>
            </head>
            <body class="body">
            <div class="preheader">{{Enc(preheader)}}</div>
            <table role="presentation" class="page" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" class="page-cell">
            <!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0"><tr><td><![endif]-->
            <table role="presentation" class="container" width="100%" cellpadding="0" cellspacing="0">
            {{browserRow}}
            <tr><td class="strip" bgcolor="{{colour.Hex}}" height="6"></td></tr>
            <tr><td class="card header">{{Header(newsletter)}}</td></tr>
            <tr><td class="card content">{{bodyHtml}}</td></tr>
            <tr><td class="card footer">{{footerHtml}}</td></tr>
            </table>
            <!--[if mso]></td></tr></table><![endif]-->
            </td></tr></table>
            </body>
            </html>
            """;
    }

    /// <summary>A button in the newsletter's colour, built as a table cell so Outlook draws its background too.</summary>
    public static string Button(string url, string label) => $"""
        <table role="presentation" class="button-table" cellpadding="0" cellspacing="0"><tr><td class="button-cell"><a class="button" href="{Enc(url)}">{Enc(label)}</a></td></tr></table>
        """;

    // The logo when there is one (alt: the newsletter's name, shown when images are blocked), else the name as text.
    private string Header(Newsletter newsletter)
    {
        // Always a PNG (an SVG logo's is drawn from it): Gmail and Outlook show no SVG.
        if (Newsletters.NewsletterLogos.MailLogoFor(newsletter) is not { } logo)
            return $"""<span class="name">{Enc(newsletter.Name)}</span>""";
        var (width, height) = LogoSize(logo.Width, logo.Height);
        return $"""<img class="logo" src="{Enc(app.Value.Link(logo.Url))}" width="{width}" height="{height}" alt="{Enc(newsletter.Name)}">""";
    }

    /// <summary>The logo's shown size: 40 pixels high, at most 280 wide; the width and height attributes are what Outlook uses.</summary>
    internal static (int Width, int Height) LogoSize(int width, int height)
    {
        var shownWidth = (int)Math.Round(width * (double)LogoHeight / height);
        return shownWidth <= LogoMaxWidth
            ? (Math.Max(1, shownWidth), LogoHeight)
            : (LogoMaxWidth, Math.Max(1, (int)Math.Round(height * (double)LogoMaxWidth / width)));
    }

    /// <summary>
    /// The one style sheet (no CSS width or height on images: PreMailer copies those into the attributes Outlook reads,
    /// where "auto" would replace the logo's pixel size). Light is the default; the dark rules apply where the client honours prefers-color-scheme
    /// (Apple Mail, iOS, Outlook for Mac) or marks its own dark mode on the elements (Outlook.com: data-ogsc; those rules
    /// sit in "@media screen" so the inliner keeps them in the head instead of dropping selectors that match nothing yet).
    /// Clients that invert colours by themselves (the Gmail app) get a layout without images of text that survives it.
    /// </summary>
    private static string StyleSheet(BrandColour colour) => $$"""
        body { margin: 0; padding: 0; background-color: #f3f4f6; color: #111827; font-family: Arial, Helvetica, sans-serif; -webkit-text-size-adjust: 100%; }
        .preheader { display: none; max-height: 0; max-width: 0; opacity: 0; overflow: hidden; mso-hide: all; font-size: 1px; line-height: 1px; }
        .page { background-color: #f3f4f6; }
        .page-cell { padding: 16px 8px; }
        .container { max-width: 600px; margin: 0 auto; }
        .browser-link { padding: 0 8px 8px; font-size: 12px; line-height: 1.4; text-align: right; color: #4b5563; }
        .browser-link a { color: #4b5563; text-decoration: underline; }
        .strip { background-color: {{colour.Hex}}; height: 6px; line-height: 6px; font-size: 6px; border-radius: 6px 6px 0 0; }
        .card { background-color: #ffffff; }
        .header { padding: 16px 24px 0; }
        .logo { display: block; border: 0; outline: none; text-decoration: none; }
        .name { font-size: 20px; line-height: 1.3; font-weight: bold; color: {{colour.OnWhite}}; }
        .content { padding: 16px 24px 24px; font-size: 16px; line-height: 1.5; color: #111827; }
        .content p { margin: 0 0 16px; }
        .content h1 { margin: 0 0 16px; font-size: 24px; line-height: 1.25; color: #111827; }
        .content h2 { margin: 24px 0 12px; font-size: 20px; line-height: 1.3; color: #111827; }
        .content h3 { margin: 20px 0 8px; font-size: 17px; line-height: 1.3; color: #111827; }
        .content ul { margin: 0 0 16px; padding-left: 24px; }
        .content ol { margin: 0 0 16px; padding-left: 24px; }
        .content li { margin: 0 0 6px; }
        .content a { color: {{colour.OnWhite}}; text-decoration: underline; }
        .content img { max-width: 100%; border: 0; }
        .content blockquote { margin: 0 0 16px; padding: 4px 0 4px 16px; border-left: 4px solid {{colour.Hex}}; color: #374151; }
        .issue-date { font-size: 14px; color: #4b5563; }
        .content hr { border: 0; border-top: 1px solid #e5e7eb; margin: 24px 0; }
        .button-table { margin: 24px 0; }
        .button-cell { background-color: {{colour.OnWhite}}; border-radius: 4px; }
        .button { display: inline-block; padding: 12px 20px; color: #ffffff; font-weight: bold; text-decoration: none; border-radius: 4px; }
        .footer { padding: 16px 24px 24px; font-size: 12px; line-height: 1.5; color: #4b5563; border-top: 1px solid #e5e7eb; border-radius: 0 0 6px 6px; }
        .footer p { margin: 0 0 12px; }
        .footer a { color: {{colour.OnWhite}}; text-decoration: underline; }
        .brand-line { font-size: 13px; color: #374151; }
        @media only screen and (max-width: 620px) {
          .page-cell { padding: 0 !important; }
          .header { padding: 16px 16px 0 !important; }
          .content { padding: 12px 16px 20px !important; }
          .footer { padding: 16px 16px 20px !important; }
          .strip { border-radius: 0 !important; }
        }
        @media (prefers-color-scheme: dark) {
          {{DarkRules(colour, "")}}
        }
        @media screen {
          {{DarkRules(colour, "[data-ogsc] ")}}
        }
        """;

    // The dark palette: dark page and card, light text, links lightened until they read on the card; the logo keeps a
    // light plate, since most logos are drawn for white paper.
    private static string DarkRules(BrandColour colour, string scope) => $$"""
        {{scope}}body, {{scope}}.page { background-color: #111827 !important; color: #e5e7eb !important; }
          {{scope}}.card { background-color: {{BrandColour.DarkCard}} !important; }
          {{scope}}.content, {{scope}}.content h1, {{scope}}.content h2, {{scope}}.content h3 { color: #f3f4f6 !important; }
          {{scope}}.content blockquote, {{scope}}.issue-date { color: #d1d5db !important; }
          {{scope}}.content a, {{scope}}.footer a, {{scope}}.name { color: {{colour.OnDark}} !important; }
          {{scope}}.footer, {{scope}}.brand-line, {{scope}}.browser-link, {{scope}}.browser-link a { color: #d1d5db !important; }
          {{scope}}.footer { border-top-color: #374151 !important; }
          {{scope}}.logo { background-color: #ffffff !important; padding: 4px 8px !important; border-radius: 4px !important; }
        """;

    /// <summary>
    /// The legal footer: sender, controller (C39), Impressum text and page (C25), and for newsletters the brand line,
    /// the unsubscribe link (C22) and the Art. 21 note (C4). The brand line stays out of the DOI and link mails: those
    /// are neutral (C8), and the line is the editor's free text.
    /// </summary>
    public (string Html, string Text) Footer(Newsletter newsletter, string? unsubscribeUrl, string? manageUrl = null)
    {
        var html = new StringBuilder();
        var plain = new StringBuilder();
        if (unsubscribeUrl is not null)
        {
            if (!string.IsNullOrWhiteSpace(newsletter.BrandFooter))
            {
                html.Append($"""<p class="brand-line">{Enc(newsletter.BrandFooter.Trim())}</p>""");
                plain.AppendLine(newsletter.BrandFooter.Trim()).AppendLine();
            }
            html.Append($"""<p><a href="{Enc(unsubscribeUrl)}">{Enc(text["Mail_Unsubscribe"])}</a>""");
            // The preference page: language, and (after a fresh link to the subscribed address) export, change, erasure (C14, C33).
            if (manageUrl is not null) html.Append($""" · <a href="{Enc(manageUrl)}">{Enc(text["Mail_Manage"])}</a>""");
            html.Append("</p>");
            if (manageUrl is not null) plain.AppendLine($"{text["Mail_Manage"]}: {manageUrl}");
            html.Append($"<p>{Enc(text["Mail_ObjectionNote"])}</p>");
            plain.AppendLine($"{text["Mail_Unsubscribe"]}: {unsubscribeUrl}").AppendLine().AppendLine(text["Mail_ObjectionNote"]).AppendLine();
        }
        html.Append($"<p>{Enc(text["Mail_SentBy", newsletter.SenderName, newsletter.SenderAddress])}");
        plain.AppendLine(text["Mail_SentBy", newsletter.SenderName, newsletter.SenderAddress]);
        // The controller (C39): who is responsible for the reader's data, with a postal and a mail address.
        if (!string.IsNullOrWhiteSpace(newsletter.ControllerName))
        {
            var controller = text["Mail_Controller", Newsletters.ControllerLine.Of(newsletter)];
            html.Append($"<br>{Enc(controller)}");
            plain.AppendLine(controller);
        }
        html.Append("</p>");
        // The Impressum (C25): its text as today, and the portal's Impressum page when one is set.
        var hasText = !string.IsNullOrWhiteSpace(newsletter.Impressum);
        var url = newsletter.ImpressumUrl.Trim();
        if (hasText || url.Length > 0)
        {
            html.Append($"<p><strong>{Enc(text["Impressum"])}</strong>");
            plain.AppendLine();
            if (hasText)
            {
                html.Append($"<br>{Enc(newsletter.Impressum).ReplaceLineEndings("<br>")}");
                plain.AppendLine(text["Impressum"]).AppendLine(newsletter.Impressum);
            }
            if (url.Length > 0)
            {
                // Only a web address becomes a link; anything else is shown as typed.
                html.Append(WebLink.IsValid(url) ? $"""<br><a href="{Enc(url)}">{Enc(url)}</a>""" : $"<br>{Enc(url)}");
                plain.AppendLine($"{text["Impressum"]}: {url}");
            }
            html.Append("</p>");
        }
        return (html.ToString(), plain.ToString());
    }

    /// <summary>The "view in browser" line of the plain-text part, or nothing.</summary>
    public string ViewInBrowserText(string? viewInBrowserUrl) =>
        viewInBrowserUrl is null ? "" : $"{text["Mail_ViewInBrowser"]}: {viewInBrowserUrl}\n\n";

    public static string Enc(string? value) => WebUtility.HtmlEncode(value ?? "");
}
