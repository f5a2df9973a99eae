using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;

namespace NewsletterMigrator;

/// <summary>
/// A Razor page accepts every HTTP method by default: TRACE, OPTIONS and made-up methods ran the page without
/// a handler, so its model was never loaded and rendering threw (500, issue 13 point 6); PUT or DELETE met the
/// antiforgery check (400). Each page here declares the methods its handlers serve (GET brings HEAD; a page
/// without handlers serves GET), so routing itself answers any other method with 405 and an Allow header,
/// before authentication or the page run.
/// </summary>
public sealed class PageHttpMethodsConvention : IPageApplicationModelConvention
{
    public void Apply(PageApplicationModel model)
    {
        // The error page is where a failed request of any method is re-executed (exception handler, status
        // code pages, the 405 itself): it must render whatever the method.
        if (model.HandlerType.AsType() == typeof(Pages.ErrorModel)) return;
        var methods = model.HandlerMethods.Select(h => h.HttpMethod.ToUpperInvariant()).DefaultIfEmpty("GET").ToHashSet();
        if (methods.Contains("GET")) methods.Add("HEAD");
        model.EndpointMetadata.Add(new HttpMethodMetadata(methods.Order(StringComparer.Ordinal).ToList()));
    }
}
