using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Archive;

/// <summary>
/// One issue of a newsletter's public archive (issue 21): the campaign's fixed body with the reader pages' frame, a link to
/// sign up, and no personal link of any kind. 404 unless the archive is on and the issue started; 410 once withdrawn.
/// </summary>
public sealed class IssueModel(ArchiveService archive) : PageModel
{
    public Newsletter? Newsletter { get; private set; }
    /// <summary>Null on the withdrawn page.</summary>
    public ArchiveEntry? Issue { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug, string archiveSlug, CancellationToken ct)
    {
        var found = await archive.IssueAsync(slug, archiveSlug, ct);
        if (found.State == IssueState.NotFound)
        {
            ArchiveResponses.Robots(Response, indexable: false);
            return NotFound();
        }
        Newsletter = found.Newsletter!;
        this.Show(Newsletter);
        ArchiveResponses.Cacheable(Response);
        if (found.State == IssueState.Withdrawn)
        {
            // Gone for good as far as a search engine is concerned; the page says so in a sentence.
            ArchiveResponses.Robots(Response, indexable: false);
            var gone = Page();
            gone.StatusCode = StatusCodes.Status410Gone;
            return gone;
        }
        Issue = found.Issue;
        var indexable = ArchiveService.Indexable(Newsletter);
        ArchiveResponses.Robots(Response, indexable);
        if (indexable) this.AllowIndexing();
        ArchiveResponses.AllowRemoteImages(Response);
        return Page();
    }
}
