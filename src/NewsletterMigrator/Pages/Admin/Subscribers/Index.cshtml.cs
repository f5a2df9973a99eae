using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.Subscribers;

/// <summary>A newsletter's subscribers: counts for every editor; addresses, proofs and exports only for admins.</summary>
public sealed class IndexModel(AppDbContext db, ProofExport proofs, TimeProvider clock) : PageModel
{
    public const int Size = 50;

    public sealed record Row(Guid Id, string Email, SubscriberStatus Status, DateTime CreatedAtUtc);

    [FromRoute] public int NewsletterId { get; set; }
    [FromQuery(Name = "p")] public int PageNumber { get; set; } = 1;
    public int PageSize => Size;
    public string NewsletterName { get; private set; } = "";
    public Dictionary<SubscriberStatus, int> Counts { get; private set; } = [];
    public int Total => Counts.Values.Sum();
    public bool ShowPersonalData => User.IsInRole(Roles.Admin);
    public List<Row> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return NotFound();
        NewsletterName = newsletter.Name;
        Counts = await db.Subscribers.Where(s => s.NewsletterId == NewsletterId).GroupBy(s => s.Status)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
        if (ShowPersonalData)
        {
            PageNumber = Math.Max(1, PageNumber);
            Rows = await db.Subscribers.AsNoTracking().Where(s => s.NewsletterId == NewsletterId)
                .OrderBy(s => s.CreatedAtUtc).ThenBy(s => s.Id).Skip((PageNumber - 1) * Size).Take(Size)
                .Select(s => new Row(s.Id, s.Email, s.Status, s.CreatedAtUtc)).ToListAsync();
        }
        return Page();
    }

    /// <summary>All proofs of the newsletter as one file; personal data, so admins only, and audited.</summary>
    public async Task<IActionResult> OnGetExportAsync(string format)
    {
        if (!ShowPersonalData) return Forbid();
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return NotFound();
        var all = await proofs.ForNewsletterAsync(NewsletterId);
        db.Audit(User.Identity?.Name ?? "", "proof-export", $"newsletter {NewsletterId}, {all.Count} subscribers, {format}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        var name = $"consent-proof-{newsletter.Slug}-{clock.GetUtcNow():yyyyMMdd}";
        return format == "csv"
            ? File(ProofExport.ToCsv(all), "text/csv; charset=utf-8", name + ".csv")
            : File(ProofExport.ToJson(all), "application/json", name + ".json");
    }
}
