using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.WebUtilities;
using NewsletterMigrator.Common;

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
        var language = await LanguageAsync(context.HttpContext, context.RouteData.Values["slug"] as string, context.HttpContext.Request.Query[QueryKey].ToString());
        using (new CultureScope(language))
        {
            await next();
        }
    }

    /// <summary>The embed page's language: <paramref name="asked"/> (the URL's <c>lang</c>) if supported, else the newsletter's default.</summary>
    public static async Task<string> LanguageAsync(HttpContext context, string? slug, string? asked) =>
        asked is not null && Languages.Supported.Contains(asked) ? asked : await DefaultLanguageAsync(context, slug);

    /// <summary>The slug of an embed page's path (/n/{slug}/embed), else null.</summary>
    public static string? EmbedSlug(string? path) =>
        path?.Split('/', StringSplitOptions.RemoveEmptyEntries) is [var first, var slug, var embed]
        && first.Equals("n", StringComparison.OrdinalIgnoreCase) && embed.Equals("embed", StringComparison.OrdinalIgnoreCase) ? slug : null;

    private static async Task<string> DefaultLanguageAsync(HttpContext context, string? slug)
    {
        // From the reader cache: the box sits under every article, so this must not be a query per request.
        var newsletter = slug is null ? null : await context.RequestServices.GetRequiredService<Consent.ReaderCache>().NewsletterBySlugAsync(slug);
        return Languages.Normalize(newsletter?.DefaultLanguage);
    }
}

/// <summary>
/// The language of an embed page's refusal that the error page answers (the per-IP limit answers before the page
/// runs, and UseStatusCodePagesWithReExecute replaces the query with "?code=429"): the embed page's own rule, read
/// from the original query, so the frame keeps the language of the article around it rather than the browser's.
/// First among the request culture providers; any other request falls through to the cookie and Accept-Language.
/// </summary>
public sealed class EmbedErrorCultureProvider : RequestCultureProvider
{
    public override async Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
    {
        if (httpContext.Features.Get<IStatusCodeReExecuteFeature>() is not { } reExecuted
            || EmbedLanguageAttribute.EmbedSlug(reExecuted.OriginalPath) is not { } slug) return null;
        var asked = QueryHelpers.ParseQuery(reExecuted.OriginalQueryString).TryGetValue(EmbedLanguageAttribute.QueryKey, out var value) ? value.ToString() : null;
        return new ProviderCultureResult(await EmbedLanguageAttribute.LanguageAsync(httpContext, slug, asked));
    }
}
