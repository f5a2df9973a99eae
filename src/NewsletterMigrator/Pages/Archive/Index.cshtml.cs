using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NewsletterMigrator.Archive;

namespace NewsletterMigrator.Pages.Archive;

/// <summary>The list of a public archive's issues, newest first, <see cref="ArchiveService.PageSize"/> a page; 404 unless public.</summary>
public sealed class IndexModel(ArchiveService archive) : PageModel
{
    public ArchivePage? List { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, [FromQuery] int page = 1, CancellationToken ct = default)
    {
        List = await archive.PageAsync(slug, page, ct);
        if (List is null)
        {
            ArchiveResponses.Robots(Response, indexable: false);
            return NotFound();
        }
        this.Show(List.Newsletter);
        var indexable = ArchiveService.Indexable(List.Newsletter);
        ArchiveResponses.Robots(Response, indexable);
        if (indexable) this.AllowIndexing();
        ArchiveResponses.Cacheable(Response);
        return Page();
    }
}
