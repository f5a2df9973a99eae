using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Api;

public static class ApiNewsletters
{
    /// <summary>
    /// The newsletter of the route, or null when there is none or the key is restricted to others: a key sees another
    /// newsletter exactly as one that does not exist (404), as an editor does in the admin area.
    /// </summary>
    public static async Task<Newsletter?> FindAsync(AppDbContext db, ClaimsPrincipal user, string slug, CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Slug == slug, ct);
        return newsletter is not null && user.MayUse(newsletter.Id) ? newsletter : null;
    }

    /// <summary>A stored UTC time as an instant with its offset, whatever Kind the provider read it with.</summary>
    public static DateTimeOffset? Instant(DateTime? utc) => utc is { } value ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)) : null;
}
