using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Join;

/// <summary>
/// The embed page's language: <c>?lang=en</c> (or <c>de</c>), else the newsletter's default language. Neither the
/// language cookie nor the browser's Accept-Language decide: a cookie would be a third-party cookie in the portal's
/// frame (blocked, and the page sets none), and the box should speak the language of the article around it, which
/// the portal states in the snippet's URL. A resource filter, because it wraps model binding and the rendering too:
/// a culture set inside the page handler would be undone when the handler returns, before the view is rendered.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class EmbedLanguageAttribute : Attribute, IAsyncResourceFilter
{
    public const string QueryKey = "lang";

    public async Task OnResourceExecutionAsync(ResourceExecutingContext context, ResourceExecutionDelegate next)
    {
        var asked = context.HttpContext.Request.Query[QueryKey].ToString();
        var language = Languages.Supported.Contains(asked) ? asked : await DefaultLanguageAsync(context);
        using (new CultureScope(language))
        {
            await next();
        }
    }

    private static async Task<string> DefaultLanguageAsync(ResourceExecutingContext context)
    {
        var slug = context.RouteData.Values["slug"] as string;
        var stored = slug is null ? null : await context.HttpContext.RequestServices.GetRequiredService<AppDbContext>().Newsletters.AsNoTracking()
            .Where(n => n.Slug == slug).Select(n => n.DefaultLanguage).FirstOrDefaultAsync();
        return Languages.Normalize(stored);
    }
}
