using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

public sealed partial class NewsletterService(AppDbContext db, ConsentTextService consentTexts, TimeProvider clock)
{
    // One neutral invitation (C11) that names the sender, says in one line why it comes, links the privacy
    // notice and says how to object (C41). {sender}, {privacy}, {name} and {link}: see InvitationLinks.Fill.
    public const string DefaultInvitation =
        "Hallo {name}, hier schreibt {sender}.\n"
        + "Sie hatten unseren WhatsApp-Newsletter abonniert, den WhatsApp nicht mehr erlaubt. "
        + "Per E-Mail geht es hier weiter: {link}\n"
        + "Datenschutz: {privacy}\n"
        + "Kein Interesse? Antworten Sie STOP oder widersprechen Sie im Link: Wir löschen Ihre Nummer.";

    /// <summary>The English default, used for English readers while neither text has been changed.</summary>
    public const string DefaultInvitationEn =
        "Hello {name}, this is {sender}.\n"
        + "You subscribed to our WhatsApp newsletter; WhatsApp no longer allows such newsletters. "
        + "To get our news by email, sign up here: {link}\n"
        + "Privacy: {privacy}\n"
        + "Not interested? Reply STOP or object via the link, and we delete your number.";

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
