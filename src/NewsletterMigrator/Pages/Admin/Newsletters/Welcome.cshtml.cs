using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin.Newsletters;

/// <summary>
/// The welcome mail after a confirmed DOI (issue 21): on or off, its German (required) and English (optional) Markdown with
/// the campaign editor's rendering, subjects, and how many latest archive issues it lists; the rules are WelcomeSettings'.
/// </summary>
public sealed class WelcomeModel(AppDbContext db, WelcomeSettings welcome, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int Id { get; set; }
    [BindProperty] public WelcomeInput Input { get; set; } = new();
    public string NewsletterName { get; private set; } = "";
    /// <summary>When the welcome was switched on while it is on: who confirmed before did not get it.</summary>
    public DateTime? EnabledSinceUtc { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var n = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(x => x.Id == Id);
        if (n is null) return NotFound();
        Show(n);
        var stored = WelcomeSettings.Of(n);
        Input = new WelcomeInput
        {
            Enabled = stored.Enabled, Subject = stored.Subject, SubjectEn = stored.SubjectEn,
            Markdown = stored.Markdown, MarkdownEn = stored.MarkdownEn, LatestIssues = stored.LatestIssues,
        };
        return Page();
    }

    // The sizes and the number of issues are WelcomeSettings.Check's, the same for this page and the command line.
    public async Task<IActionResult> OnPostAsync()
    {
        if (ModelState.IsValid)
        {
            var refusal = await welcome.SaveAsync(Id, new WelcomeChange(Input.Enabled, Input.Subject ?? "", Input.SubjectEn ?? "",
                Input.Markdown ?? "", Input.MarkdownEn ?? "", Input.LatestIssues), User.Identity!.Name!);
            if (refusal is null) return NotFound();
            if (refusal == WelcomeRefusal.None)
            {
                TempData["Message"] = text["Saved"].Value;
                return RedirectToPage(new { id = Id });
            }
            ModelState.AddModelError(refusal == WelcomeRefusal.GermanTextRequired ? "Input.Markdown" : "", text[$"Welcome_Refusal_{refusal}"]);
        }
        var n = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(x => x.Id == Id);
        if (n is null) return NotFound();
        Show(n);
        return Page();
    }

    private void Show(Newsletter n)
    {
        NewsletterName = n.Name;
        EnabledSinceUtc = n.WelcomeEnabled ? n.WelcomeEnabledAtUtc : null;
    }
}

public sealed class WelcomeInput
{
    public bool Enabled { get; set; }
    public string? Subject { get; set; }
    public string? SubjectEn { get; set; }
    public string? Markdown { get; set; }
    public string? MarkdownEn { get; set; }
    public int LatestIssues { get; set; }
}
