using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using NewsletterMigrator.Api;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>The OpenAPI document is valid, describes every mapped API route with its scope, and nothing else.</summary>
public sealed partial class OpenApiDocumentTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;

    private async Task<(OpenApiDocument Document, string Json)> DocumentAsync()
    {
        var response = await App.ApiClient(null).GetAsync("/api/v1/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadAsStringAsync();
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var read = await OpenApiDocument.LoadAsync(stream, "json", new OpenApiReaderSettings());
        Assert.True(read.Diagnostic!.Errors.Count == 0, string.Join("\n", read.Diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        return (read.Document!, json);
    }

    /// <summary>Every /api/v1 route the app maps (but the document itself), as "METHOD /path" with route constraints dropped.</summary>
    private HashSet<string> MappedRoutes() => App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.OrdinalIgnoreCase) == true && e.RoutePattern.RawText != ApiOpenApi.DocumentPath)
        .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"]).Select(m => $"{m} {Normalize(e.RoutePattern.RawText!)}"))
        .ToHashSet();

    private static string Normalize(string path) => Constraint().Replace(path, "}").TrimEnd('/');

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex Constraint();

    [Fact]
    public async Task The_document_is_valid_OpenAPI_and_lists_every_mapped_API_route_and_nothing_else()
    {
        var (document, _) = await DocumentAsync();

        var documented = document.Paths.SelectMany(p => p.Value.Operations!.Keys.Select(m => $"{m.Method.ToUpperInvariant()} {p.Key}")).ToHashSet();
        var mapped = MappedRoutes();
        Assert.True(mapped.Count >= 10, string.Join(", ", mapped));
        Assert.Empty(mapped.Except(documented)); // a new API route without documentation fails here
        Assert.Empty(documented.Except(mapped)); // and neither Razor pages nor the app's other endpoints are in it
    }

    [Fact]
    public async Task Every_operation_has_a_summary_the_bearer_scheme_its_scope_and_its_problem_answers()
    {
        var (document, json) = await DocumentAsync();
        var scheme = document.Components!.SecuritySchemes![ApiOpenApi.SecuritySchemeName];
        Assert.Equal(SecuritySchemeType.Http, scheme.Type);
        Assert.Equal("bearer", scheme.Scheme);
        var scopesByRoute = App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ApiScopeMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => ($"{m} {Normalize(e.RoutePattern.RawText!)}", e.Metadata.GetMetadata<ApiScopeMetadata>()!.Scope)))
            .ToDictionary();

        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations!)
            {
                var route = $"{method.Method.ToUpperInvariant()} {path}";
                Assert.False(string.IsNullOrWhiteSpace(operation.Summary), route);
                var requirement = Assert.Single(operation.Security!);
                var (reference, scopes) = Assert.Single(requirement);
                Assert.Equal(ApiOpenApi.SecuritySchemeName, reference.Reference.Id);
                Assert.Equal([scopesByRoute[route]], scopes);
                Assert.Contains($"Required scope: `{scopesByRoute[route]}`", operation.Description);
                foreach (var status in new[] { "401", "403", "429" })
                    Assert.Contains("application/problem+json", operation.Responses![status].Content!.Keys);
            }
        }
        foreach (var scope in ApiScopes.All) Assert.Contains($"`{scope}`", document.Info.Description);
        Assert.Contains("\"x-required-scope\"", json);
        Assert.Contains("CreateCampaignRequest", document.Components.Schemas!.Keys);
    }

    [Fact]
    public async Task The_admin_reference_page_shows_each_operation_with_its_scope_and_fields_and_needs_an_admin()
    {
        var (document, _) = await DocumentAsync();
        var admin = await App.AdminAsync();

        var response = await admin.GetAsync("/admin/api-keys/reference");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("<script", page);
        foreach (var (path, item) in document.Paths)
            foreach (var (_, operation) in item.Operations!)
                Assert.Contains($"<code>{path}</code>\n            <span class=\"ms-2\">{operation.Summary}</span>", page);
        foreach (var scope in ApiScopes.All) Assert.Contains($"<code class=\"api-scope\">{scope}</code>", page);
        Assert.Contains("<code>readerUserAgent</code>", page);
        Assert.Contains("<code>consentTextId</code>", page);

        await App.StaffAsync("redakteur-ref@example.test", "long enough password", Staff.Roles.Editor);
        var editor = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await editor.SignInAsync("redakteur-ref@example.test", "long enough password");
        var refused = await editor.GetAsync("/admin/api-keys/reference");
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
    }
}
