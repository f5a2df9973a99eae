using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages;

[IgnoreAntiforgeryToken]
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class ErrorModel(IOptions<StaffSignInOptions> signIn) : PageModel
{
    // Read from the query for every method, not bound: failed requests of every method (TRACE, PUT, a made-up
    // one) are re-executed here and only GET and POST reach a handler (issue 13, point 6); and a re-executed
    // POST still carries its form, where the setup page's field "Code" would otherwise hide the status.
    public int? Code => int.TryParse(Request.Query["code"], out var code) ? code : null;

    /// <summary>A 429 from the staff sign-in limit, not the readers' sign-up limit: its own wording.</summary>
    public bool SignInLimited => Code == StatusCodes.Status429TooManyRequests && SignInRateLimits.Refused(HttpContext);

    public int SignInWaitMinutes => StaffSignInOptions.Minutes(signIn.Value.AttemptWindow);
}
