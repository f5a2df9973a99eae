using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Admin.Privacy;

public sealed class RetentionModel(AppDbContext db, RetentionService retention, IOptions<RetentionOptions> options, TimeProvider clock,
    IStringLocalizer<SharedResource> text) : PageModel
{
    public RetentionOptions Options => options.Value;
    public List<RetentionRun> Runs { get; private set; } = [];

    public async Task OnGetAsync() =>
        Runs = await db.RetentionRuns.AsNoTracking().OrderByDescending(r => r.Id).Take(60).ToListAsync();

    public async Task<IActionResult> OnPostRunAsync()
    {
        var user = User.Identity!.Name!;
        if (await retention.RunAsync(user) is not { } run)
        {
            TempData["Message"] = text["Privacy_RunBusy"].Value;
            return RedirectToPage();
        }
        db.Audit(user, "retention", $"run {run.Id} started by hand", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        return RedirectToPage();
    }
}
