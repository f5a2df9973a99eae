using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace NewsletterMigrator.Pages;

[IgnoreAntiforgeryToken]
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class ErrorModel : PageModel
{
    // A property, not handler arguments: failed requests of every method (TRACE, PUT, a made-up one) are
    // re-executed here, and only GET and POST would reach a handler (issue 13, point 6).
    [BindProperty(SupportsGet = true, Name = "code")]
    public int? Code { get; set; }
}
