using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Embed;

/// <summary>
/// C32: antiforgery on every form except the RFC 8058 endpoint. The embed form is the one other exception, because
/// its frame cannot keep the antiforgery cookie; it checks the Origin and a signed token of its own instead
/// (EmbedPageTests shows each refusal). The list comes from the app's own endpoints: a route that takes a POST and
/// is neither a Razor page (validated by default) nor an endpoint whose antiforgery metadata requires validation
/// (a minimal-API form) fails here, whether it opted out or simply never opted in.
/// </summary>
public sealed class AntiforgeryCoverageTests
{
    [Fact]
    public async Task Every_route_that_takes_a_POST_checks_antiforgery_except_the_error_page_the_one_click_unsubscribe_the_signed_webhook_and_the_embed_form_C32()
    {
        await using var app = new AppFactory();
        var open = UncheckedPostRoutes(app.Services.GetRequiredService<EndpointDataSource>().Endpoints);
        // Each exception and why it is safe:
        // - /error: every failed request of any method is re-executed there (issue 13); it renders a message and
        //   changes nothing, and a token check there would turn each error answer into a 400.
        // - /n/{slug}/embed: no cookie in a third-party frame; EmbedForm checks the Origin and a signed token.
        // - /u/{token}: RFC 8058 one-click unsubscribe, posted by mail providers without cookie or token (C21).
        // - /webhooks/whatsapp: called by Meta; the request signature is the authentication (C28).
        Assert.Equal(["/error", "/n/{slug}/embed", "/u/{token}", "/webhooks/whatsapp"], open);
    }

    [Fact]
    public async Task A_new_MapPost_without_antiforgery_is_caught_whether_it_opts_out_or_never_opts_in()
    {
        // Real endpoints from real MapPost calls, as a future feature would add them to the app.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Services.AddAntiforgery();
        await using var probe = builder.Build();
        probe.MapPost("/plain", () => "no form binding, so no antiforgery metadata");
        probe.MapPost("/form", ([FromForm] string name) => name); // a bound form: validation required
        probe.MapPost("/opted-out", ([FromForm] string name) => name).DisableAntiforgery();
        probe.Map("/any-method", () => "no method metadata: takes POST too");
        probe.MapGet("/read", () => "GET only");

        var open = UncheckedPostRoutes(((IEndpointRouteBuilder)probe).DataSources.SelectMany(d => d.Endpoints));

        Assert.Equal(["/any-method", "/opted-out", "/plain"], open);
    }

    /// <summary>The routes that accept a POST without an antiforgery check, as "/pattern", sorted.</summary>
    private static List<string> UncheckedPostRoutes(IEnumerable<Endpoint> endpoints) =>
        endpoints.OfType<RouteEndpoint>()
            .Where(AcceptsPost)
            .Where(e => !ChecksAntiforgery(e))
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>No method metadata, or an empty list, means every method (routing's HttpMethodMatcherPolicy).</summary>
    private static bool AcceptsPost(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } methods || methods.HttpMethods.Count == 0 || methods.HttpMethods.Contains("POST");

    private static bool ChecksAntiforgery(Endpoint endpoint)
    {
        // The REST API (issue 19) authenticates with a bearer key alone, which a browser never sends by itself; the staff
        // cookie authorizes nothing there (ApiKeyAuthenticationTests), so a forged cross-site request has nothing to ride on.
        if (endpoint.Metadata.GetMetadata<NewsletterMigrator.Api.ApiScopeMetadata>() is not null) return true;
        // The most specific antiforgery metadata wins: [IgnoreAntiforgeryToken] on a page model, DisableAntiforgery().
        if (endpoint.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: false }
            || endpoint.Metadata.OfType<IgnoreAntiforgeryTokenAttribute>().Any()) return false;
        // Razor Pages validate every unsafe method by default (AutoValidateAntiforgeryToken on each page).
        if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is not null) return true;
        // Anything else only if its metadata asks the antiforgery middleware to validate (a minimal API binding a form).
        return endpoint.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: true };
    }
}
