using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Subscribers;

/// <summary>What an objection did: whether the number is newly on the suppression list, and how many contacts it ended.</summary>
public sealed record ObjectionResult(bool NewlySuppressed, int ContactsObjected);

/// <summary>
/// A number objects to the invitation (STOP, Art. 21, C41, C44): the one path for the admin's "STOP received",
/// the Cloud API webhook and a withdrawal recorded by phone. The number goes onto the suppression list (so no
/// import brings it back, C18), every contact with it is marked objected and loses its number, name and
/// invitation link (minimisation), and its queued WhatsApp messages are cancelled. The suppression list is
/// one for the installation, so the objection holds in every newsletter that had the number.
/// </summary>
public sealed class PhoneObjections(AppDbContext db, SuppressionList suppressions, PhoneProtector phones, TimeProvider clock, ILogger<PhoneObjections> logger)
{
    private static readonly string[] StopWords = ["stop", "stopp", "abmelden"];

    /// <summary>
    /// STOP, Stopp or Abmelden as a whole reply: case, spaces and trailing punctuation do not matter
    /// ("Stop!", " stopp ."); a sentence that merely contains the word is no objection and is left to staff.
    /// </summary>
    public static bool IsStopWord(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return false;
        var letters = string.Concat(text.Where(ch => !char.IsWhiteSpace(ch))).TrimEnd('.', '!', '?', ',', ';', ':', '…', '-');
        return StopWords.Contains(letters.ToLowerInvariant());
    }

    /// <summary>The admin's "STOP received" for one contact of a newsletter; null when there is no such contact.</summary>
    public async Task<ObjectionResult?> ObjectContactAsync(int newsletterId, Guid contactId, string channel, string actor, CancellationToken ct = default)
    {
        var hmac = await db.Contacts.Of(newsletterId, contactId)
            .Select(c => new { c.PhoneHmac, c.ObjectedAtUtc }).SingleOrDefaultAsync(ct);
        if (hmac is null) return null;
        if (hmac.ObjectedAtUtc is not null) return new ObjectionResult(false, 0);
        return await ObjectAsync(hmac.PhoneHmac, channel, actor, ct);
    }

    /// <summary>An objection from a number in E.164 (the webhook's sender, a number staff typed).</summary>
    public Task<ObjectionResult> ObjectNumberAsync(string e164, string channel, string actor, CancellationToken ct = default) =>
        ObjectAsync(SuppressionHash.Phone(phones, e164), channel, actor, ct);

    public async Task<ObjectionResult> ObjectAsync(byte[] phoneHmac, string channel, string actor, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Its own transaction, or the caller's (a withdrawal recorded by phone) when one is open.
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var added = await suppressions.AddAsync(SuppressionKind.Phone, phoneHmac, $"objection ({channel})", now, ct);
        var contactIds = await EndContactsAsync(phoneHmac, now, ct);
        db.Audit(actor, "objection", $"number suppressed via {channel}" + (added ? "" : " (already listed)")
            + (contactIds.Count == 0 ? "; no contact" : $"; contacts {string.Join(", ", contactIds)}"), now);
        await db.SaveChangesAsync(ct);
        if (transaction is not null) await transaction.CommitAsync(ct);
        logger.LogInformation("Objection via {Channel}: number suppressed (new: {New}), {Count} contacts ended", channel, added, contactIds.Count);
        return new ObjectionResult(added, contactIds.Count);
    }

    /// <summary>
    /// Every contact with the number, in every newsletter, is marked objected and loses number, name and
    /// invitation link; its waiting WhatsApp messages are cancelled. Runs in the caller's transaction (an
    /// objection, the opt-out list) and returns the contacts it ended.
    /// </summary>
    public async Task<List<Guid>> EndContactsAsync(byte[] phoneHmac, DateTime now, CancellationToken ct = default)
    {
        // One seek of the numbers' key (newsletter, HMAC) per newsletter (the HMAC alone has no index of its own), then the
        // contacts by primary key.
        var known = new List<Guid>();
        foreach (var newsletterId in await db.Newsletters.Select(n => n.Id).ToListAsync(ct))
            known.AddRange(await db.ContactPhones.Where(p => p.NewsletterId == newsletterId && p.PhoneHmac == phoneHmac).Select(p => p.ContactId).ToListAsync(ct));
        var contactIds = known.Count == 0 ? known
            : await db.Contacts.Where(c => known.Contains(c.Id) && c.ObjectedAtUtc == null).Select(c => c.Id).ToListAsync(ct);
        if (contactIds.Count == 0) return contactIds;
        await db.WhatsAppMessages
            .Where(m => contactIds.Contains(m.ContactId) && (m.Status == WhatsAppStatus.Queued || m.Status == WhatsAppStatus.Leased))
            // The lease owner stays: if a leased row's request is already on the way and Meta accepts it, the worker still
            // records the acceptance, which the moving 24-hour budget must count (a queued row has no owner).
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, WhatsAppStatus.Cancelled), ct);
        foreach (var id in contactIds)
        {
            // The HMAC stays (it is the suppression list's own hash) so the row is still known as this number's; the link ends.
            await db.Contacts.Where(c => c.Id == id).ExecuteUpdateAsync(u => u
                .SetProperty(c => c.ObjectedAtUtc, now)
                .SetProperty(c => c.PhoneEncrypted, (byte[]?)null)
                .SetProperty(c => c.DisplayName, (string?)null)
                .SetProperty(c => c.InviteRevoked, true), ct);
        }
        return contactIds;
    }
}
