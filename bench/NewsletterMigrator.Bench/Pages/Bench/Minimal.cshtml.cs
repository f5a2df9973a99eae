using Microsoft.AspNetCore.Mvc.RazorPages;

namespace NewsletterMigrator.Bench.Pages.Bench;

/// <summary>The `pages` bench's baseline: a Razor page that does nothing, served by the same app and pipeline.</summary>
public sealed class MinimalModel : PageModel
{
    public string Title => "Welcome";

    public void OnGet()
    {
    }
}
