using System.Net;
using System.Text;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>The HTML and text frame of every mail: header with the newsletter's name, body, footer with Impressum.</summary>
public sealed class MailLayout(IStringLocalizer<SharedResource> text)
{
    public string Html(Newsletter newsletter, string preheader, string bodyHtml, string footerHtml) => $$"""
        <!DOCTYPE html>
        <html lang="{{Enc(Common.Languages.Current)}}">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{Enc(newsletter.Name)}}</title></head>
        <body style="margin:0;padding:0;background:#f3f4f6;font-family:Arial,Helvetica,sans-serif;color:#111827;">
        <span style="display:none;max-height:0;overflow:hidden;">{{Enc(preheader)}}</span>
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:16px;">
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:6px;">
        <tr><td style="padding:16px 24px;background:#0d3b66;color:#ffffff;font-size:20px;font-weight:bold;border-radius:6px 6px 0 0;">{{Enc(newsletter.Name)}}</td></tr>
        <tr><td style="padding:24px;font-size:16px;line-height:1.5;">{{bodyHtml}}</td></tr>
        <tr><td style="padding:16px 24px;font-size:12px;line-height:1.5;color:#4b5563;border-top:1px solid #e5e7eb;">{{footerHtml}}</td></tr>
        </table></td></tr></table>
        </body></html>
        """;

    /// <summary>The legal footer: sender, controller (C39), Impressum text and page (C25), and for newsletters the unsubscribe link (C22) and the Art. 21 note (C4).</summary>
    public (string Html, string Text) Footer(Newsletter newsletter, string? unsubscribeUrl, string? manageUrl = null)
    {
        var html = new StringBuilder();
        var plain = new StringBuilder();
        if (unsubscribeUrl is not null)
        {
            html.Append($"""<p><a href="{Enc(unsubscribeUrl)}" style="color:#0d3b66;">{Enc(text["Mail_Unsubscribe"])}</a>""");
            // The preference page: language, and (after a fresh link to the subscribed address) export, change, erasure (C14, C33).
            if (manageUrl is not null) html.Append($""" · <a href="{Enc(manageUrl)}" style="color:#0d3b66;">{Enc(text["Mail_Manage"])}</a>""");
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
                html.Append(Common.WebLink.IsValid(url)
                    ? $"""<br><a href="{Enc(url)}" style="color:#0d3b66;">{Enc(url)}</a>"""
                    : $"<br>{Enc(url)}");
                plain.AppendLine($"{text["Impressum"]}: {url}");
            }
            html.Append("</p>");
        }
        return (html.ToString(), plain.ToString());
    }

    public static string Enc(string? value) => WebUtility.HtmlEncode(value ?? "");
}
