using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Admin.Suppress;

/// <summary>The old provider's opt-out list onto the suppression list (C18, C36). Admins only: it ends subscriptions.</summary>
[Authorize(Roles = Roles.Admin)]
[AcceptsUpload]
public sealed class IndexModel(AppDbContext db, OptOutListImport optOuts, IOptions<ImportOptions> options, IStringLocalizer<SharedResource> text)
    : PageModel
{
    public int IssuesShown => 500;

    [FromRoute] public int NewsletterId { get; set; }
    [BindProperty] public IFormFile? Upload { get; set; }
    public string NewsletterName { get; private set; } = "";
    public string Region { get; private set; } = "DE";
    public OptOutReport? Report { get; private set; }
    public long MaxUploadBytes => options.Value.MaxUploadBytes;
    public string MaxUploadText => options.Value.MaxUploadText;

    /// <param name="tooLarge">Set by RequestBodyLimits when it refused a file above Import:MaxUploadBytes.</param>
    public async Task<IActionResult> OnGetAsync(bool tooLarge = false)
    {
        if (!await LoadAsync()) return NotFound();
        if (tooLarge) ModelState.AddModelError(nameof(Upload), text["Import_TooLarge", MaxUploadText]);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync()) return NotFound();
        if (UploadRefusal.Of(Upload, options.Value) is { } refused)
        {
            ModelState.AddModelError(nameof(Upload), text[refused, MaxUploadText]);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        try
        {
            await using var stream = Upload!.OpenReadStream();
            Report = await optOuts.ImportAsync(stream, Upload.FileName, Region, User.Identity!.Name!, ct);
        }
        catch (ImportFormatException ex)
        {
            ModelState.AddModelError(nameof(Upload), text[ex.ReasonKey, ImportLimits.MessageArguments()]);
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return false;
        (NewsletterName, Region) = (newsletter.Name, newsletter.DefaultRegion);
        return true;
    }
}
