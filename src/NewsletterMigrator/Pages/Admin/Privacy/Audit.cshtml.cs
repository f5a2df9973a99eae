using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.Privacy;

/// <summary>The staff audit log, newest first, 50 a page. Rows are append-only (AppDbContext refuses changes).</summary>
public sealed class AuditModel(AppDbContext db) : PageModel
{
    public const int Size = 50;

    [FromQuery(Name = "p")] public int PageNumber { get; set; } = 1;
    public int Total { get; private set; }
    public List<AuditEntry> Entries { get; private set; } = [];

    public async Task OnGetAsync()
    {
        PageNumber = Math.Max(1, PageNumber);
        Total = await db.AuditEntries.CountAsync();
        Entries = await db.AuditEntries.AsNoTracking().OrderByDescending(a => a.Id).Skip((PageNumber - 1) * Size).Take(Size).ToListAsync();
    }
}
