using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Embed;

/// <summary>
/// C32: antiforgery on every form except the RFC 8058 endpoint. The embed form is the one other exception, because
/// its frame cannot keep the antiforgery cookie; it checks the Origin and a signed token of its own instead
/// (EmbedPageTests shows each refusal). The list comes from the app's own endpoints, so a new exemption fails here.
/// </summary>
public sealed class AntiforgeryCoverageTests
{
    [Fact]
    public async Task Every_route_that_takes_a_POST_checks_antiforgery_except_the_one_click_unsubscribe_the_signed_webhook_and_the_embed_form_C32()
    {
        await using var app = new AppFactory();
        var exempt = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("POST") == true)
            .Where(e => e.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: false } || e.Metadata.OfType<IgnoreAntiforgeryTokenAttribute>().Any())
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(["/n/{slug}/embed", "/u/{token}", "/webhooks/whatsapp"], exempt);
    }
}
