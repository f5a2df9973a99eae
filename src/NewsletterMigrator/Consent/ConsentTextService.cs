using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>Consent texts are versioned: a version a reader has seen never changes; editing it makes a new one (C7).</summary>
public sealed class ConsentTextService(AppDbContext db, TimeProvider clock)
{
    public Task<ConsentText?> CurrentAsync(int newsletterId, string language, CancellationToken ct = default) =>
        db.ConsentTexts.Where(c => c.NewsletterId == newsletterId && c.Language == language)
            .OrderByDescending(c => c.Version).FirstOrDefaultAsync(ct);

    /// <summary>The version to show to a reader: their language if it exists, else the newsletter's default.</summary>
    public async Task<ConsentText?> ForReaderAsync(Newsletter newsletter, string language, CancellationToken ct = default) =>
        await CurrentAsync(newsletter.Id, language, ct) ?? await CurrentAsync(newsletter.Id, newsletter.DefaultLanguage, ct);

    /// <summary>Records that a reader is being shown this version; from now on it is immutable.</summary>
    public async Task MarkShownAsync(ConsentText text, CancellationToken ct = default)
    {
        if (text.FirstShownAtUtc is not null) return;
        text.FirstShownAtUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
    }

    public async Task<ConsentText> SaveAsync(int newsletterId, string language, string statement, string privacyInformation,
        string privacyNoticeUrl, string privacyNoticeVersion, CancellationToken ct = default)
    {
        var current = await CurrentAsync(newsletterId, language, ct);
        var hash = Sha256(statement, privacyInformation, privacyNoticeUrl, privacyNoticeVersion);
        if (current is not null && current.Sha256 == hash) return current;

        if (current is not null && current.FirstShownAtUtc is null)
        {
            // Nobody has seen it yet: correcting it in place keeps the version list short.
            current.Statement = statement;
            current.PrivacyInformation = privacyInformation;
            current.PrivacyNoticeUrl = privacyNoticeUrl;
            current.PrivacyNoticeVersion = privacyNoticeVersion;
            current.Sha256 = hash;
            await db.SaveChangesAsync(ct);
            return current;
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
