using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>
/// Consent texts are versioned: a version a reader has seen never changes; any change makes a new one (C7).
/// A version holds everything the consent page shows around the form: the statement, the Art. 13 text, the
/// privacy notice's URL and version label, the Art. 21 note and the Impressum (C43). What a reader is shown
/// is always a stored version: <see cref="ForReaderAsync"/> first stores a new one when the settings moved on.
/// </summary>
public sealed class ConsentTextService(AppDbContext db, TimeProvider clock, DefaultConsentTexts defaults, IStringLocalizer<SharedResource> text,
    ReaderDataChanges changes)
{
    public Task<ConsentText?> CurrentAsync(int newsletterId, string language, CancellationToken ct = default) =>
        db.ConsentTexts.AsNoTracking().Where(c => c.NewsletterId == newsletterId && c.Language == language)
            .OrderByDescending(c => c.Version).FirstOrDefaultAsync(ct);

    /// <summary>A new newsletter's first versions: the default statement and the generated Art. 13 text in every language.</summary>
    public async Task CreateDefaultsAsync(Newsletter newsletter, CancellationToken ct = default)
    {
        var bases = await InvitationLegalBasesAsync(newsletter.Id, ct);
        foreach (var language in Languages.Supported)
            await StoreAsync(Compose(newsletter, language, null, null, bases), ct);
    }

    /// <summary>
    /// The version to show to a reader: their language if it exists, else the newsletter's default. If the
    /// newsletter's settings or the installation's options changed since (controller, Impressum, privacy notice
    /// URL or label, retention, mail provider …), a new version is stored first: a generated Art. 13 text is
    /// rebuilt (statement and Art. 13 text each), an editor's statement and Art. 13 text are kept word for word.
    /// </summary>
    public async Task<ConsentText?> ForReaderAsync(Newsletter newsletter, string language, CancellationToken ct = default)
    {
        var current = await CurrentAsync(newsletter.Id, language, ct) ?? await CurrentAsync(newsletter.Id, newsletter.DefaultLanguage, ct);
        if (current is null) return null;
        var wanted = Compose(newsletter, current.Language, current.StatementGenerated ? null : current.Statement, current.Generated ? null : current.PrivacyInformation,
            await InvitationLegalBasesAsync(newsletter.Id, ct));
        return wanted.Sha256 == current.Sha256 ? current : await StoreAsync(wanted, ct);
    }

    /// <summary>
    /// The version a reader's page renders, fixed as seen (immutable from now on). The mark succeeds only for
    /// the words that were read: had an editor corrected the unseen version in between, it is read again, so
    /// the page never shows text other than what the stored version (and its hash) holds.
    /// </summary>
    public async Task<ConsentText?> ShowToReaderAsync(Newsletter newsletter, string language, CancellationToken ct = default)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var text = await ForReaderAsync(newsletter, language, ct);
            if (text is null || await MarkShownAsync(text, ct)) return text;
        }
        throw new InvalidOperationException($"The consent text of newsletter {newsletter.Id} kept changing while a reader's page was rendered.");
    }

    /// <summary>Records that a reader is being shown this version; false if its words changed since it was read.</summary>
    public async Task<bool> MarkShownAsync(ConsentText text, CancellationToken ct = default)
    {
        if (text.FirstShownAtUtc is not null) return true;
        var now = clock.GetUtcNow().UtcDateTime;
        var marked = await db.ConsentTexts.Where(c => c.Id == text.Id && c.FirstShownAtUtc == null && c.Sha256 == text.Sha256)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.FirstShownAtUtc, now), ct);
        if (marked == 0 && !await db.ConsentTexts.AnyAsync(c => c.Id == text.Id && c.FirstShownAtUtc != null && c.Sha256 == text.Sha256, ct))
            return false;
        text.FirstShownAtUtc ??= now;
        return true;
    }

    /// <summary>
    /// An editor's statement and Art. 13 text. A privacy text identical to the generated one, or left as the
    /// generated version showed it, stays generated and keeps following the settings.
    /// </summary>
    public async Task<ConsentText> SaveAsync(int newsletterId, string language, string statement, string privacyInformation,
        string privacyNoticeUrl, string privacyNoticeVersion, CancellationToken ct = default)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, ct);
        var bases = await InvitationLegalBasesAsync(newsletterId, ct);
        var current = await CurrentAsync(newsletterId, language, ct);
        var privacy = Normalize(privacyInformation);
        // An emptied text is no Art. 13 information at all (C3): it means "the one built from the settings".
        var keepsGenerated = privacy.Length == 0 || privacy == Normalize(defaults.Privacy(newsletter, language, bases))
                             || (current is { Generated: true } && privacy == Normalize(current.PrivacyInformation));
        var keepsStatementGenerated = Normalize(statement) == Normalize(DefaultConsentTexts.Statement(newsletter, language))
                                      || (current is { StatementGenerated: true } && Normalize(statement) == Normalize(current.Statement));
        var draft = Compose(newsletter, language, keepsStatementGenerated ? null : statement, keepsGenerated ? null : privacy, bases)
            with { PrivacyNoticeUrl = privacyNoticeUrl.Trim(), PrivacyNoticeVersion = privacyNoticeVersion.Trim() };
        return await StoreAsync(draft, ct);
    }

    /// <summary>Covers everything a version shows; changing any part changes the hash (C7, C43).</summary>
    public static string Sha256(string statement, string privacyInformation, string url, string version, string objectionNote, string impressum)
    {
        var canonical = string.Join("\n\u001f\n", statement, privacyInformation, url, version, objectionNote, impressum);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public static string Sha256(ConsentText t) =>
        Sha256(t.Statement, t.PrivacyInformation, t.PrivacyNoticeUrl, t.PrivacyNoticeVersion, t.ObjectionNote, t.Impressum);

    /// <param name="editorStatement">The editor's consent statement, or null for the one generated from the settings.</param>
    /// <param name="editorPrivacy">The editor's Art. 13 text, or null for the one generated from the settings.</param>
    private Draft Compose(Newsletter n, string language, string? editorStatement, string? editorPrivacy, IReadOnlyCollection<InvitationLegalBasis> bases) => new(
        n.Id, language, Normalize(editorStatement ?? DefaultConsentTexts.Statement(n, language)),
        editorPrivacy is null ? Normalize(defaults.Privacy(n, language, bases)) : Normalize(editorPrivacy),
        n.PrivacyNoticeUrl.Trim(), n.PrivacyNoticeVersion.Trim(), ObjectionNote(language), ShownImpressum.For(n),
        Generated: editorPrivacy is null, StatementGenerated: editorStatement is null);

    private async Task<ConsentText> StoreAsync(Draft draft, CancellationToken ct)
    {
        var hash = draft.Sha256;
        for (var attempt = 0; ; attempt++)
        {
            var current = await CurrentAsync(draft.NewsletterId, draft.Language, ct);
            if (current is not null && current.Sha256 == hash) return current;

            if (current is not null && current.FirstShownAtUtc is null)
            {
                // Nobody has seen it yet: correct it in place. The condition is re-checked in the UPDATE,
                // so a reader who opens the page meanwhile still gets an unchanged version.
                var corrected = await db.ConsentTexts.Where(c => c.Id == current.Id && c.FirstShownAtUtc == null)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(c => c.Statement, draft.Statement).SetProperty(c => c.PrivacyInformation, draft.PrivacyInformation)
                        .SetProperty(c => c.PrivacyNoticeUrl, draft.PrivacyNoticeUrl).SetProperty(c => c.PrivacyNoticeVersion, draft.PrivacyNoticeVersion)
                        .SetProperty(c => c.ObjectionNote, draft.ObjectionNote).SetProperty(c => c.Impressum, draft.Impressum)
                        .SetProperty(c => c.Generated, draft.Generated).SetProperty(c => c.StatementGenerated, draft.StatementGenerated)
                        .SetProperty(c => c.Sha256, hash), ct);
                if (corrected == 1)
                {
                    changes.Bump(); // an ExecuteUpdate passes no SaveChanges interceptor: tell ReaderCache itself
                    return await db.ConsentTexts.AsNoTracking().SingleAsync(c => c.Id == current.Id, ct);
                }
            }

            var next = new ConsentText
            {
                NewsletterId = draft.NewsletterId,
                Language = draft.Language,
                Version = (current?.Version ?? 0) + 1,
                Statement = draft.Statement,
                PrivacyInformation = draft.PrivacyInformation,
                PrivacyNoticeUrl = draft.PrivacyNoticeUrl,
                PrivacyNoticeVersion = draft.PrivacyNoticeVersion,
                ObjectionNote = draft.ObjectionNote,
                Impressum = draft.Impressum,
                Generated = draft.Generated,
                StatementGenerated = draft.StatementGenerated,
                Sha256 = hash,
                CreatedAtUtc = clock.GetUtcNow().UtcDateTime,
            };
            db.ConsentTexts.Add(next);
            try
            {
                await db.SaveChangesAsync(ct);
                return next;
            }
            catch (DbUpdateException e) when (attempt < 3 && UniqueViolation.Is(e))
            {
                // Two readers opened the page right after a settings change and both stored the next version
                // number; the unique index let one win. Read again: it is most likely the very same text.
                db.Entry(next).State = EntityState.Detached;
            }
        }
    }

    /// <summary>The legal bases recorded with the newsletter's completed imports (C36), for the invitation paragraph.</summary>
    private async Task<IReadOnlyCollection<InvitationLegalBasis>> InvitationLegalBasesAsync(int newsletterId, CancellationToken ct) =>
        (await db.ImportBatches.AsNoTracking()
            .Where(b => b.NewsletterId == newsletterId && b.Status == ImportStatus.Completed && b.LegalBasis != "")
            .Select(b => new { b.LegalBasisKind, b.LegalBasis }).Distinct().ToListAsync(ct))
        .Select(b => new InvitationLegalBasis(b.LegalBasisKind, b.LegalBasis)).OrderBy(b => b.Text, StringComparer.Ordinal).ThenBy(b => b.Kind, StringComparer.Ordinal).ToList();

    private string ObjectionNote(string language)
    {
        using var culture = new CultureScope(language);
        return text["SignUp_Objection"].Value;
    }

    // A browser posts a textarea with CRLF; the same words must give the same hash.
    private static string Normalize(string s) => s.ReplaceLineEndings("\n").Trim();

    private sealed record Draft(int NewsletterId, string Language, string Statement, string PrivacyInformation, string PrivacyNoticeUrl,
        string PrivacyNoticeVersion, string ObjectionNote, string Impressum, bool Generated, bool StatementGenerated)
    {
        public string Sha256 => ConsentTextService.Sha256(Statement, PrivacyInformation, PrivacyNoticeUrl, PrivacyNoticeVersion, ObjectionNote, Impressum);
    }
}
