using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Pages.Admin.Funnel;

/// <summary>The funnel as numbers and as a chart; counts only, no personal data (editors may see it).</summary>
public sealed class IndexModel(AppDbContext db, FunnelReport funnel, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    public string NewsletterName { get; private set; } = "";
    public FunnelReport.Report Report { get; private set; } = new(new(0, 0, 0, 0, 0, 0), []);
    public string[] StepNames { get; private set; } = [];
    public string ChartJson { get; private set; } = "{}";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId, ct);
        if (newsletter is null) return NotFound();
        NewsletterName = newsletter.Name;
        Report = await funnel.ForNewsletterAsync(NewsletterId, ct);
        StepNames = [text["Funnel_Imported"], text["Funnel_Invited"], text["Funnel_Opened"], text["Funnel_SignedUp"], text["Funnel_Confirmed"], text["Funnel_Unsubscribed"]];
        // Read by wwwroot/js/funnel-chart.js from a data attribute: the CSP allows no inline script.
        ChartJson = JsonSerializer.Serialize(new
        {
            labels = StepNames,
            datasets = new[] { new { label = (string)text["Funnel_AllImports"], data = Report.Total.Values } }
                .Concat(Report.Imports.Select(i => new { label = $"#{i.ImportId} {i.FileName}", data = i.Steps.Values })),
        });
        return Page();
    }

    public static string Rate(double? rate) => rate is { } r ? r.ToString("P0", System.Globalization.CultureInfo.CurrentCulture) : "–";
}
