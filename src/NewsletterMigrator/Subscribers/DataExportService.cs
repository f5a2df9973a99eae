using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Subscribers;

/// <summary>Everything held about one subscriber as JSON (Art. 15, 20; C14): subscriber, contact, consent ledger, mails.</summary>
public sealed class DataExportService(AppDbContext db, PhoneProtector phones, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public async Task<byte[]> ExportAsync(Subscriber subscriber, CancellationToken ct = default)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == subscriber.NewsletterId, ct);
        var contact = subscriber.ContactId is { } contactId ? await db.Contacts.AsNoTracking().SingleOrDefaultAsync(c => c.Id == contactId, ct) : null;
        var events = await db.ConsentEvents.AsNoTracking().Where(e => e.SubscriberId == subscriber.Id).OrderBy(e => e.Id).ToListAsync(ct);
        var textIds = events.Where(e => e.ConsentTextId != null).Select(e => e.ConsentTextId!.Value).Distinct().ToList();
        var texts = await db.ConsentTexts.AsNoTracking().Where(t => textIds.Contains(t.Id)).ToListAsync(ct);
        var mails = await db.OutboundMessages.AsNoTracking().Where(m => m.SubscriberId == subscriber.Id).OrderBy(m => m.Id)
            .Select(m => new
            {
                kind = m.Kind.ToString(), status = m.Status.ToString(), to = m.ToAddress, messageId = m.MessageId,
                queuedAtUtc = m.CreatedAtUtc, sentAtUtc = m.SentAtUtc,
                subject = m.CampaignId == null ? null : db.Campaigns.Where(c => c.Id == m.CampaignId).Select(c => c.Subject).FirstOrDefault(),
            }).ToListAsync(ct);

        var export = new
        {
            exportedAtUtc = clock.GetUtcNow().UtcDateTime,
            controller = new
            {
                name = newsletter.ControllerName, address = newsletter.ControllerAddress, email = newsletter.ControllerEmail,
                newsletter = newsletter.Name, sender = newsletter.SenderAddress, impressum = newsletter.Impressum, impressumUrl = newsletter.ImpressumUrl,
                privacyNotice = newsletter.PrivacyNoticeUrl, privacyNoticeVersion = newsletter.PrivacyNoticeVersion,
            },
            subscriber = new
            {
                email = subscriber.Email, pendingNewEmail = subscriber.PendingEmail, language = subscriber.Language,
                status = subscriber.Status.ToString(), createdAtUtc = subscriber.CreatedAtUtc, confirmedAtUtc = subscriber.ConfirmedAtUtc,
                unsubscribedAtUtc = subscriber.UnsubscribedAtUtc, firstNewsletterSentAtUtc = subscriber.FirstNewsletterSentAtUtc,
            },
            whatsAppContact = contact is null ? null : new
            {
                name = contact.DisplayName,
                phoneNumber = contact.PhoneEncrypted is null ? null : phones.Decrypt(contact.PhoneEncrypted),
                importedAtUtc = contact.CreatedAtUtc, invitedAtUtc = contact.InvitedAtUtc, openedAtUtc = contact.OpenedAtUtc,
                signedUpAtUtc = contact.SignedUpAtUtc, confirmedAtUtc = contact.ConfirmedAtUtc,
            },
            consentLedger = events.Select(e => new
            {
                kind = e.Kind.ToString(), occurredAtUtc = e.OccurredAtUtc, ipAddress = e.IpAddress, userAgent = e.UserAgent, page = e.Page,
                channel = e.Channel, messageId = e.MessageId, templateVersion = e.TemplateVersion, consentTextSha256 = e.ConsentTextSha256,
                // C43: what the sign-up recorded beside the text, and the hash of the DOI mail's wording.
                ageConfirmed = e.AgeConfirmed, privacyNoticeVersion = e.PrivacyNoticeVersion, doiTextSha256 = e.DoiTextSha256,
                consentText = texts.Where(t => t.Id == e.ConsentTextId).Select(t => new
                {
                    t.Language, t.Version, t.Statement, t.PrivacyInformation, t.PrivacyNoticeUrl, t.PrivacyNoticeVersion, t.ObjectionNote, t.Impressum,
                }).FirstOrDefault(),
            }),
            mails,
        };
        return JsonSerializer.SerializeToUtf8Bytes(export, Json);
    }

    public static string FileName(Subscriber subscriber) => $"newsletter-data-{subscriber.CreatedAtUtc:yyyyMMdd}.json";
}
