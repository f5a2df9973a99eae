using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

public sealed partial class NewsletterService(AppDbContext db, ConsentTextService consentTexts, TimeProvider clock)
{
    public const string DefaultInvitation =
        "Hallo {name}, unseren WhatsApp-Newsletter gibt es nicht mehr. Wenn Sie unsere Nachrichten künftig per E-Mail erhalten möchten, können Sie sich hier anmelden: {link}";

    public static bool IsValidSlug(string? slug) => slug is not null && SlugPattern().IsMatch(slug);

    public Task<bool> SlugTakenAsync(string slug, int? exceptId, CancellationToken ct = default) =>
        db.Newsletters.AnyAsync(n => n.Slug == slug && n.Id != exceptId, ct);

    /// <summary>Creates a newsletter with starting consent texts in German and English.</summary>
    public async Task<Newsletter> CreateAsync(Newsletter newsletter, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        newsletter.CreatedAtUtc = now;
        if (string.IsNullOrWhiteSpace(newsletter.InvitationMessage)) newsletter.InvitationMessage = DefaultInvitation;
        db.Newsletters.Add(newsletter);
        db.Audit(userName, "settings", $"created newsletter {newsletter.Slug}", now);
        await db.SaveChangesAsync(ct);
        // The Art. 13 text is generated from the settings and follows them until an editor rewrites it (C40).
        await consentTexts.CreateDefaultsAsync(newsletter, ct);
        return newsletter;
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    private static partial Regex SlugPattern();
}
