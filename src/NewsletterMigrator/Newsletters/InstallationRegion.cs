using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// The region a phone number typed without country code is read in when no newsletter is named (a STOP reply,
/// a withdrawal by phone, an opt-out list for the whole installation): the first newsletter's.
/// </summary>
public static class InstallationRegion
{
    public static async Task<string> OfAsync(AppDbContext db, CancellationToken ct = default) =>
        await db.Newsletters.OrderBy(n => n.Id).Select(n => n.DefaultRegion).FirstOrDefaultAsync(ct) ?? "DE";
}
