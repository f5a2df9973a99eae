using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using static NewsletterMigrator.Sending.MailLayout;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Mails to staff: the invitation and the password reset link, plain text and HTML in the staff member's language.
/// They belong to no newsletter, so they skip the outbox (whose rows need one) and go straight through the transport
/// the delivery worker uses (SMTP, or the pickup folder's staff/ folder), DKIM-signed when the key is for the sender's domain. The
/// caller learns whether the mail left; nothing is queued for a retry, the admin sends again.
/// </summary>
public sealed class StaffMail(MailTransportFactory transports, DkimSigning dkim, AppDbContext db, IOptions<StaffMailOptions> options,
    IOptions<AppOptions> app, IStringLocalizer<SharedResource> text, ILogger<StaffMail> logger)
{
    public async Task<bool> SendInvitationAsync(StaffUser user, string link, string invitedBy, CancellationToken ct = default)
    {
        using var culture = new CultureScope(user.Language);
        return await SendAsync(user, text["StaffMail_InviteSubject"], text["StaffMail_InviteText", invitedBy, app.Value.BaseUri.Host],
            text["StaffMail_InviteButton"], link, text["StaffMail_InviteValid"], ct);
    }

    public async Task<bool> SendPasswordResetAsync(StaffUser user, string link, CancellationToken ct = default)
    {
        using var culture = new CultureScope(user.Language);
        return await SendAsync(user, text["StaffMail_ResetSubject"], text["StaffMail_ResetText", app.Value.BaseUri.Host],
            text["StaffMail_ResetButton"], link, text["StaffMail_ResetValid"], ct);
    }

    private async Task<bool> SendAsync(StaffUser user, string subject, string intro, string button, string link, string note, CancellationToken ct)
    {
        var from = await SenderAsync(ct);
        var message = new MimeMessage { Subject = subject, Date = DateTimeOffset.UtcNow, MessageId = MimeUtils.GenerateMessageId(from.Domain) };
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(user.Email!));
        message.Body = new BodyBuilder
        {
            TextBody = $"{intro}\n\n{button}:\n{link}\n\n{note}\n",
            HtmlBody = $$"""
                <!DOCTYPE html>
                <html lang="{{Enc(Languages.Current)}}"><head><meta charset="utf-8"><title>{{Enc(subject)}}</title></head>
                <body style="font-family:Arial,Helvetica,sans-serif;color:#111827;line-height:1.5;">
                <p>{{Enc(intro)}}</p>
                <p style="margin:24px 0;"><a href="{{Enc(link)}}" style="background:#0d3b66;color:#ffffff;padding:12px 20px;border-radius:4px;text-decoration:none;display:inline-block;">{{Enc(button)}}</a></p>
                <p>{{Enc(text["Doi_LinkFallback"])}}<br><a href="{{Enc(link)}}">{{Enc(link)}}</a></p>
                <p>{{Enc(note)}}</p>
                </body></html>
                """,
        }.ToMessageBody();
        if (dkim.SignsFor(from.Domain)) dkim.Sign(message);

        DeliveryResult result;
        try
        {
            // Never into /dev/mail's list, and owner-only pickup files: they hold a link that sets a password (CreateForStaff).
            await using var transport = transports.CreateForStaff();
            result = await transport.SendAsync(message, ct);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The pickup folder missing rights or space: a failed send the page offers to repeat, not a 500 after the invitation is saved.
            result = new DeliveryResult(DeliveryOutcome.TemporaryFailure, ex.GetType().Name);
        }
        if (result.Outcome == DeliveryOutcome.Sent) return true;
        logger.LogWarning("Staff mail to {Recipient} not sent: {Reply}", Redact.Email(user.Email), Redact.Text(result.Reply));
        return false;
    }

    /// <summary>Staff:MailFrom, else the first newsletter's sender, else noreply@ the public host.</summary>
    private async Task<MailboxAddress> SenderAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.MailFrom)) return new MailboxAddress(o.MailFromName, o.MailFrom.Trim());
        var first = await db.Newsletters.AsNoTracking().OrderBy(n => n.Id).Select(n => new { n.SenderName, n.SenderAddress }).FirstOrDefaultAsync(ct);
        if (first is not null && EmailAddress.TryNormalize(first.SenderAddress, out var address)) return new MailboxAddress(first.SenderName, address);
        return new MailboxAddress(o.MailFromName, "noreply@" + app.Value.BaseUri.Host);
    }
}
