using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Answers an upload larger than Import:MaxUploadBytes before its body is read (and before the
/// antiforgery check would read it): back to the import page with a clear message instead of a 413.
/// </summary>
internal sealed class UploadTooLargeFilter(long limit) : IAuthorizationFilter, IOrderedFilter
{
    public int Order => -3000;

    public void OnAuthorization(AuthorizationFilterContext context)
    {
        var request = context.HttpContext.Request;
        if (!HttpMethods.IsPost(request.Method) || request.ContentLength is not { } length || length <= limit + 1024 * 1024) return;
        context.Result = new RedirectResult($"{request.PathBase}{request.Path}?tooLarge=true");
    }
}
