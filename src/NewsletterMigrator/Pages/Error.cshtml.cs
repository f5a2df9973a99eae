using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace NewsletterMigrator.Pages;

[IgnoreAntiforgeryToken]
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class ErrorModel : PageModel
{
    public int? Code { get; private set; }

    public void OnGet(int? code) => Code = code;

    public void OnPost(int? code) => Code = code;
}
