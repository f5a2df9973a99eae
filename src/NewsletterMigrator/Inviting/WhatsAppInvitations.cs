using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

public enum ResendOutcome { Queued, ReasonMissing, NotFound, NoNumber, Closed, AlreadyQueued }

/// <summary>
/// Puts template messages on the durable WhatsApp queue: once per reader (C11). A second message to
/// the same contact is an admin's explicit act, with the reason in the audit log.
/// </summary>
public sealed class WhatsAppInvitations(AppDbContext db, IOptions<WhatsAppOptions> options, WhatsAppSignal signal, TimeProvider clock)
{
    public bool Enabled => options.Value.Enabled;

    /// <summary>Queues every open contact of the newsletter (or one import); returns how many, or null when the newsletter has no such import.</summary>
    public async Task<int?> EnqueueAllAsync(Newsletter newsletter, int? importId, string userName, CancellationToken ct = default)
    {
        if (importId is { } import && !await db.ImportBatches.Of(newsletter.Id, import).AnyAsync(ct)) return null;
        if (!Enabled || InvitationQueue.Gate(newsletter, clock.GetUtcNow().UtcDateTime) != InvitationGate.Open) return 0;
        var now = clock.GetUtcNow().UtcDateTime;
        var scope = db.Contacts.Where(c => c.NewsletterId == newsletter.Id);
        if (importId is { } id) scope = scope.Where(c => c.ImportBatchId == id);
        var total = 0;
        Guid? after = null;
        while (true)
        {
            // Keyset batches: 100,000 contacts never sit in memory at once.
            var page = InvitationQueue.Invitable(scope, db);
            if (after is { } a) page = page.Where(c => c.Id.CompareTo(a) > 0);
            var ids = await page.OrderBy(c => c.Id).Select(c => c.Id).Take(1000).ToListAsync(ct);
            if (ids.Count == 0) break;
            db.WhatsAppMessages.AddRange(ids.Select(contactId => new WhatsAppMessage
            {
                ContactId = contactId, NewsletterId = newsletter.Id, Status = WhatsAppStatus.Queued,
                CreatedAtUtc = now, NextAttemptAtUtc = now, RequestedBy = userName,
            }));
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            total += ids.Count;
            after = ids[^1];
        }
        db.Audit(userName, "whatsapp", $"queued {total} template invitations for newsletter {newsletter.Slug}" + (importId is null ? "" : $", import #{importId}"), now);
        await db.SaveChangesAsync(ct);
        signal.Notify();
        return total;
    }

    /// <summary>A second invitation through the API: only with a reason, which goes into the audit log.</summary>
    public async Task<ResendOutcome> ResendAsync(int newsletterId, Guid contactId, string? reason, string adminName, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(reason)) return ResendOutcome.ReasonMissing;
        var contact = await db.Contacts.AsNoTracking().Of(newsletterId, contactId).SingleOrDefaultAsync(ct);
        if (contact is null) return ResendOutcome.NotFound;
        if (contact.PhoneEncrypted is null || contact.ObjectedAtUtc is not null) return ResendOutcome.NoNumber;
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        if (!Enabled || InvitationQueue.Gate(newsletter, now) != InvitationGate.Open) return ResendOutcome.Closed;
        if (await db.WhatsAppMessages.AnyAsync(m => m.ContactId == contactId && (m.Status == WhatsAppStatus.Queued || m.Status == WhatsAppStatus.Leased), ct))
            return ResendOutcome.AlreadyQueued;
        db.WhatsAppMessages.Add(new WhatsAppMessage
        {
            ContactId = contactId, NewsletterId = newsletterId, Status = WhatsAppStatus.Queued,
            CreatedAtUtc = now, NextAttemptAtUtc = now, RequestedBy = adminName,
        });
        db.Audit(adminName, "whatsapp-resend", $"contact {contactId}: {reason.Trim()}", now);
        await db.SaveChangesAsync(ct);
        signal.Notify();
        return ResendOutcome.Queued;
    }
}

/// <summary>Wakes the WhatsApp worker when rows are queued, instead of waiting for the next poll.</summary>
public sealed class WhatsAppSignal : WakeSignal;
