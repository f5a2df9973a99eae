using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages;

[IgnoreAntiforgeryToken]
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class ErrorModel(IOptions<StaffSignInOptions> signIn) : PageModel
{
    public int? Code { get; private set; }

    /// <summary>A 429 from the staff sign-in limit, not the readers' sign-up limit: its own wording.</summary>
    public bool SignInLimited => Code == StatusCodes.Status429TooManyRequests && SignInRateLimits.Refused(HttpContext);

    public int SignInWaitMinutes => StaffSignInOptions.Minutes(signIn.Value.AttemptWindow);

    // From the query only: a re-executed POST still carries its form, and the setup page's field "Code"
    // would otherwise win and hide the status (a 429 there showed the generic error text).
    public void OnGet([FromQuery] int? code) => Code = code;

    public void OnPost([FromQuery] int? code) => Code = code;
}
