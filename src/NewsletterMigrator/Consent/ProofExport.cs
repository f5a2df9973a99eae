using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>One subscriber's complete proof: who, and every ledger entry in order (C7).</summary>
public sealed record SubscriberProof(
    string Newsletter,
    Guid SubscriberId,
    string Email,
    string Status,
    string Language,
    DateTime CreatedAtUtc,
    DateTime? ConfirmedAtUtc,
    DateTime? UnsubscribedAtUtc,
    IReadOnlyList<ProofEvent> Events)
{
    /// <summary>C36: the imports whose invitation led to this reader, with the legal basis recorded for it.</summary>
    public IReadOnlyList<ProofImport> Imports { get; init; } = [];
}

/// <summary>An import a reader was invited from and its legal basis (C36); the contact row outlives the number (C16).</summary>
public sealed record ProofImport(int ImportId, string FileName, DateTime ImportedAtUtc, string LegalBasisKind, string LegalBasis);

/// <summary>
/// A ledger entry, with the consent text version it refers to written out in full, so an export stands on its own.
/// A sign-up carries the age confirmation and the privacy-notice version shown; a queued or sent DOI its
/// template version and the SHA-256 of its text without the link, as meant and as sent (C43).
/// </summary>
public sealed record ProofEvent(
    long Id,
    string Kind,
    DateTime OccurredAtUtc,
    string? IpAddress,
    string? UserAgent,
    string? Page,
    Guid? InvitationContactId,
    string? MessageId,
    string? TemplateVersion,
    string? Channel,
    ProofConsentText? ConsentText,
    bool? AgeConfirmed,
    string? PrivacyNoticeVersion,
    string? DoiTextSha256);

public sealed record ProofConsentText(
    int Id,
    int Version,
    string Language,
    string Sha256Recorded,
    string Sha256Stored,
    string Statement,
    string PrivacyInformation,
    string PrivacyNoticeUrl,
    string PrivacyNoticeVersion,
    string ObjectionNote,
    string Impressum);

/// <summary>Reads the ledger as proof and writes it as JSON or formula-safe CSV (BGH I ZR 164/09: printable at any time).</summary>
public sealed class ProofExport(AppDbContext db)
{
    public async Task<SubscriberProof?> ForSubscriberAsync(Guid subscriberId, CancellationToken ct = default)
    {
        var subscriber = await db.Subscribers.AsNoTracking().SingleOrDefaultAsync(s => s.Id == subscriberId, ct);
        if (subscriber is null) return null;
        return (await BuildAsync([subscriber], ct)).Single();
    }

    public async Task<List<SubscriberProof>> ForNewsletterAsync(int newsletterId, CancellationToken ct = default)
    {
        var subscribers = await db.Subscribers.AsNoTracking().Where(s => s.NewsletterId == newsletterId)
            .OrderBy(s => s.CreatedAtUtc).ThenBy(s => s.Id).ToListAsync(ct);
        return await BuildAsync(subscribers, ct);
    }

    private async Task<List<SubscriberProof>> BuildAsync(List<Subscriber> subscribers, CancellationToken ct)
    {
        if (subscribers.Count == 0) return [];
        var newsletterIds = subscribers.Select(s => s.NewsletterId).Distinct().ToList();
        var names = await db.Newsletters.AsNoTracking().Where(n => newsletterIds.Contains(n.Id)).ToDictionaryAsync(n => n.Id, n => n.Name, ct);
        var ids = subscribers.Select(s => s.Id).ToHashSet();
        // One subscriber: their rows only. A whole newsletter: its ledger in one read rather than per subscriber.
        var query = db.ConsentEvents.AsNoTracking().Where(e => newsletterIds.Contains(e.NewsletterId));
        if (subscribers.Count == 1) query = query.Where(e => e.SubscriberId == subscribers[0].Id);
        var events = (await query.OrderBy(e => e.Id).ToListAsync(ct)).Where(e => ids.Contains(e.SubscriberId)).ToList();
        var textIds = events.Where(e => e.ConsentTextId is not null).Select(e => e.ConsentTextId!.Value).Distinct().ToList();
        var texts = await db.ConsentTexts.AsNoTracking().Where(t => textIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, ct);
        var bySubscriber = events.ToLookup(e => e.SubscriberId);
        var imports = await ImportsAsync(subscribers, events, ct);

        return subscribers.Select(s => new SubscriberProof(
            names.GetValueOrDefault(s.NewsletterId, ""), s.Id, s.Email, s.Status.ToString(), s.Language,
            s.CreatedAtUtc, s.ConfirmedAtUtc, s.UnsubscribedAtUtc,
            bySubscriber[s.Id].Select(e => new ProofEvent(e.Id, e.Kind.ToString(), e.OccurredAtUtc, e.IpAddress, e.UserAgent, e.Page,
                e.InvitationContactId, e.MessageId, e.TemplateVersion, e.Channel,
                e.ConsentTextId is { } id && texts.TryGetValue(id, out var t)
                    ? new ProofConsentText(t.Id, t.Version, t.Language, e.ConsentTextSha256 ?? "", t.Sha256, t.Statement, t.PrivacyInformation, t.PrivacyNoticeUrl, t.PrivacyNoticeVersion,
                        t.ObjectionNote, t.Impressum)
                    : null,
                e.AgeConfirmed, e.PrivacyNoticeVersion, e.DoiTextSha256)).ToList()) { Imports = imports[s.Id].ToList() }).ToList();
    }

    // C36, the legal basis of the import a reader was invited from: the sign-up's invitation contact (and the subscriber's first contact) lead to the import batch. The
    // contact row is never deleted: the migration end and erasure only blank its number and name.
    private async Task<ILookup<Guid, ProofImport>> ImportsAsync(List<Subscriber> subscribers, List<ConsentEvent> events, CancellationToken ct)
    {
        var links = events.Where(e => e.InvitationContactId is not null).Select(e => (e.SubscriberId, ContactId: e.InvitationContactId!.Value))
            .Concat(subscribers.Where(s => s.ContactId is not null).Select(s => (SubscriberId: s.Id, ContactId: s.ContactId!.Value)))
            .Distinct().ToList();
        if (links.Count == 0) return Array.Empty<(Guid, ProofImport)>().ToLookup(x => x.Item1, x => x.Item2);
        var contactIds = links.Select(l => l.ContactId).Distinct().ToList();
        var batches = new Dictionary<Guid, ProofImport>();
        foreach (var chunk in contactIds.Chunk(500))
        {
            var rows = await db.Contacts.AsNoTracking().Where(c => chunk.Contains(c.Id))
                .Join(db.ImportBatches, c => c.ImportBatchId, b => b.Id, (c, b) => new { c.Id, BatchId = b.Id, b.FileName, b.CreatedAtUtc, b.LegalBasisKind, b.LegalBasis })
                .ToListAsync(ct);
            foreach (var r in rows) batches[r.Id] = new ProofImport(r.BatchId, r.FileName, r.CreatedAtUtc, r.LegalBasisKind, r.LegalBasis);
        }
        return links.Where(l => batches.ContainsKey(l.ContactId)).Select(l => (l.SubscriberId, Import: batches[l.ContactId]))
            .DistinctBy(x => (x.SubscriberId, x.Import.ImportId)).ToLookup(x => x.SubscriberId, x => x.Import);
    }

    private static readonly string[] ImportColumns = ["invitation_import_id", "invitation_legal_basis_kind", "invitation_legal_basis"];

    private static string[] ImportCells(SubscriberProof p) =>
    [
        string.Join(" | ", p.Imports.Select(i => i.ImportId.ToString(CultureInfo.InvariantCulture))),
        string.Join(" | ", p.Imports.Select(i => i.LegalBasisKind)),
        string.Join(" | ", p.Imports.Select(i => i.LegalBasis)),
    ];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // readable umlauts; the file is downloaded, never embedded in HTML
    };

    public static byte[] ToJson(IEnumerable<SubscriberProof> proofs) =>
        JsonSerializer.SerializeToUtf8Bytes(new { exportedAtUtc = DateTime.UtcNow, subscribers = proofs }, Json);

    public static readonly string[] CsvColumns =
    [
        "newsletter", "subscriber_id", "email", "status", "language", "event_id", "event", "occurred_at_utc", "ip_address", "user_agent",
        "page", "invitation_contact_id", "message_id", "template_version", "channel", "consent_text_id", "consent_text_version",
        "consent_text_language", "consent_text_sha256_recorded", "consent_text_sha256_stored", "consent_statement",
        "privacy_information", "privacy_notice_url", "privacy_notice_version",
        // C43, appended so the earlier columns keep their places for existing spreadsheets.
        "age_confirmed", "privacy_notice_version_recorded", "doi_text_sha256", "objection_note", "impressum",
        .. ImportColumns,
    ];

    /// <summary>One row per ledger entry; a subscriber without entries still gets one row. UTF-8 with BOM for spreadsheets.</summary>
    public static byte[] ToCsv(IEnumerable<SubscriberProof> proofs)
    {
        return SafeCsvWriter.ToBytes(csv =>
        {
            csv.WriteRow(CsvColumns);
            foreach (var p in proofs)
            {
                string[] who = [p.Newsletter, p.SubscriberId.ToString(), p.Email, p.Status, p.Language];
                if (p.Events.Count == 0) csv.WriteRow([.. who, .. new string[CsvColumns.Length - who.Length - ImportColumns.Length], .. ImportCells(p)]);
                foreach (var e in p.Events)
                {
                    var t = e.ConsentText;
                    csv.WriteRow([.. who, e.Id.ToString(CultureInfo.InvariantCulture), e.Kind, Iso(e.OccurredAtUtc), e.IpAddress, e.UserAgent,
                        e.Page, e.InvitationContactId?.ToString(), e.MessageId, e.TemplateVersion, e.Channel,
                        t?.Id.ToString(CultureInfo.InvariantCulture), t?.Version.ToString(CultureInfo.InvariantCulture), t?.Language,
                        t?.Sha256Recorded, t?.Sha256Stored, t?.Statement, t?.PrivacyInformation, t?.PrivacyNoticeUrl, t?.PrivacyNoticeVersion,
                        e.AgeConfirmed is { } age ? (age ? "true" : "false") : null, e.PrivacyNoticeVersion, e.DoiTextSha256,
                        t?.ObjectionNote, t?.Impressum, .. ImportCells(p)]);
                }
            }
        }, separator: ',');
    }

    private static string Iso(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

}
