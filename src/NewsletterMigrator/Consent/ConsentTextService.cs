using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>Consent texts are versioned: a version a reader has seen never changes; editing it makes a new one (C7).</summary>
public sealed class ConsentTextService(AppDbContext db, TimeProvider clock)
{
    public Task<ConsentText?> CurrentAsync(int newsletterId, string language, CancellationToken ct = default) =>
        db.ConsentTexts.AsNoTracking().Where(c => c.NewsletterId == newsletterId && c.Language == language)
            .OrderByDescending(c => c.Version).FirstOrDefaultAsync(ct);

    /// <summary>The version to show to a reader: their language if it exists, else the newsletter's default.</summary>
    public async Task<ConsentText?> ForReaderAsync(Newsletter newsletter, string language, CancellationToken ct = default) =>
        await CurrentAsync(newsletter.Id, language, ct) ?? await CurrentAsync(newsletter.Id, newsletter.DefaultLanguage, ct);

    /// <summary>Records that a reader is being shown this version; from now on it is immutable.</summary>
    public async Task MarkShownAsync(ConsentText text, CancellationToken ct = default)
    {
        if (text.FirstShownAtUtc is not null) return;
        var now = clock.GetUtcNow().UtcDateTime;
        await db.ConsentTexts.Where(c => c.Id == text.Id && c.FirstShownAtUtc == null)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.FirstShownAtUtc, now), ct);
        text.FirstShownAtUtc = now;
    }

    public async Task<ConsentText> SaveAsync(int newsletterId, string language, string statement, string privacyInformation,
        string privacyNoticeUrl, string privacyNoticeVersion, CancellationToken ct = default)
    {
        var current = await db.ConsentTexts.AsNoTracking().Where(c => c.NewsletterId == newsletterId && c.Language == language)
            .OrderByDescending(c => c.Version).FirstOrDefaultAsync(ct);
        var hash = Sha256(statement, privacyInformation, privacyNoticeUrl, privacyNoticeVersion);
        if (current is not null && current.Sha256 == hash) return current;

        if (current is not null && current.FirstShownAtUtc is null)
        {
            // Nobody has seen it yet: correct it in place. The condition is re-checked in the UPDATE,
            // so a reader who opens the page meanwhile still gets an unchanged version.
            var corrected = await db.ConsentTexts.Where(c => c.Id == current.Id && c.FirstShownAtUtc == null)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(c => c.Statement, statement).SetProperty(c => c.PrivacyInformation, privacyInformation)
                    .SetProperty(c => c.PrivacyNoticeUrl, privacyNoticeUrl).SetProperty(c => c.PrivacyNoticeVersion, privacyNoticeVersion)
                    .SetProperty(c => c.Sha256, hash), ct);
            if (corrected == 1) return await db.ConsentTexts.AsNoTracking().SingleAsync(c => c.Id == current.Id, ct);
        }

        var next = new ConsentText
        {
            NewsletterId = newsletterId,
            Language = language,
            Version = (current?.Version ?? 0) + 1,
            Statement = statement,
            PrivacyInformation = privacyInformation,
            PrivacyNoticeUrl = privacyNoticeUrl,
            PrivacyNoticeVersion = privacyNoticeVersion,
            Sha256 = hash,
            CreatedAtUtc = clock.GetUtcNow().UtcDateTime,
        };
        db.ConsentTexts.Add(next);
        await db.SaveChangesAsync(ct);
        return next;
    }

    public static string Sha256(string statement, string privacyInformation, string url, string version)
    {
        var canonical = string.Join("\n\u001f\n", statement, privacyInformation, url, version);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
