using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Development only: lists the pickup folder's mails and shows them rendered, so the links can be clicked. It needs no
/// sign-in (it is how a developer confirms a reader's sign-up), so it shows only the pickup folder itself, never a
/// subfolder: staff mails, whose links set a staff password, go to <see cref="MailTransportFactory.StaffFolder"/>
/// (<see cref="MailTransportFactory.CreateForStaff"/>), or anyone who reaches a Development box could ask for an
/// admin's reset link and read it here. A sign-in in front of this page would not do: the first admin, or one who
/// forgot the password, needs such a link before anyone can sign in. The operator reads them in the folder.
/// </summary>
public static class DevMailbox
{
    public static void MapDevMailbox(this WebApplication app)
    {
        app.MapGet("/dev/mail", (IOptions<SmtpOptions> smtp, IOptions<AppOptions> options) =>
        {
            var folder = new DirectoryInfo(MailTransportFactory.PickupDirectory(smtp.Value, options.Value));
            var files = folder.Exists ? folder.GetFiles("*.eml").OrderByDescending(f => f.Name).Take(200).ToList() : [];
            var html = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mail pickup folder</title></head><body><h1>Mail pickup folder</h1>");
            html.Append($"<p>{WebUtility.HtmlEncode(folder.FullName)}: {files.Count} mail(s), newest first.</p><ul>");
            foreach (var file in files)
            {
                using var stream = file.OpenRead();
                var message = MimeMessage.Load(stream);
                html.Append($"<li><a href=\"/dev/mail/{WebUtility.UrlEncode(file.Name)}\">{WebUtility.HtmlEncode(message.Date.ToString("u"))} – {WebUtility.HtmlEncode(message.To.ToString())} – {WebUtility.HtmlEncode(message.Subject)}</a></li>");
            }
            html.Append("</ul></body></html>");
            return Results.Content(html.ToString(), "text/html; charset=utf-8");
        });

        app.MapGet("/dev/mail/{name}", (string name, IOptions<SmtpOptions> smtp, IOptions<AppOptions> options, HttpContext context) =>
        {
            var folder = Path.GetFullPath(MailTransportFactory.PickupDirectory(smtp.Value, options.Value));
            var path = Path.GetFullPath(Path.Combine(folder, Path.GetFileName(name)));
            if (!path.StartsWith(folder, StringComparison.Ordinal) || !File.Exists(path)) return Results.NotFound();
            var message = MimeMessage.Load(path);
            // The mail's own HTML uses inline styles, as mail does; this page alone relaxes the style policy.
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'none'";
            var headers = string.Join("\n", message.Headers.Select(h => $"{h.Field}: {h.Value}"));
            var body = message.HtmlBody ?? $"<pre>{WebUtility.HtmlEncode(message.TextBody)}</pre>";
            return Results.Content($"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(message.Subject)}</title></head><body><p><a href=\"/dev/mail\">All mails</a></p><pre style=\"white-space:pre-wrap;font-size:12px;background:#eee;padding:8px\">{WebUtility.HtmlEncode(headers)}</pre>{body}</body></html>", "text/html; charset=utf-8");
        });
    }
}
