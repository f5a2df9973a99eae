using System.Text;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace NewsletterMigrator.Api;

/// <summary>
/// The API's OpenAPI document (served at /api/v1/openapi.json, read by the admin reference page): only the /api/v1
/// operations, the bearer scheme, and per operation the scope it needs (security requirement, the x-required-scope
/// extension and a line in its description).
/// </summary>
public static class ApiOpenApi
{
    public const string DocumentName = "v1";
    public const string DocumentPath = ApiRequestGuard.BasePath + "/openapi.json";
    public const string SecuritySchemeName = "ApiKey";
    public const string ScopeExtension = "x-required-scope";

    private static readonly Dictionary<string, string> ParameterDescriptions = new()
    {
        ["slug"] = "The newsletter's slug, as in its sign-up address /n/<slug>.",
        ["id"] = "The campaign's id, as returned when it was created.",
        ["language"] = "de or en; default: the newsletter's language.",
    };

    public static IServiceCollection AddApiOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            // The app's other minimal endpoints (QR codes, webhooks, the language switch) are not part of the API.
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.OrdinalIgnoreCase) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "NewsletterMigrator API", Version = "v1", Description = Overview() };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[SecuritySchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "nmk_ followed by 43 base64url characters",
                    Description = "An API key created by an admin (Admin → API keys, or the create-api-key command), sent as 'Authorization: Bearer nmk_…'.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                foreach (var parameter in operation.Parameters ?? [])
                {
                    if (parameter is OpenApiParameter { Description: null } described && ParameterDescriptions.TryGetValue(described.Name ?? "", out var text))
                        described.Description = text;
                }
                var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiScopeMetadata>().FirstOrDefault()?.Scope;
                if (scope is null) return Task.CompletedTask;
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecuritySchemeName, context.Document)] = [scope] });
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                operation.Extensions[ScopeExtension] = new JsonNodeExtension(JsonValue.Create(scope));
                operation.Description = $"{operation.Description}\n\nRequired scope: `{scope}`.".TrimStart();
                return Task.CompletedTask;
            });
        });

    /// <summary>The document's description: the scopes and the problem types every consumer needs to know.</summary>
    private static string Overview()
    {
        var text = new StringBuilder("Drive the newsletter from a CMS. Every operation needs an API key with one scope; errors are RFC 9457 problem documents.\n\nScopes:\n");
        foreach (var (scope, description) in ApiScopes.Descriptions) text.Append($"- `{scope}`: {description}\n");
        text.Append("\nProblem types:\n");
        foreach (var (code, status, title) in ApiProblems.Kinds) text.Append($"- `{ApiProblems.TypePrefix}{code}` ({status}): {title}\n");
        return text.ToString();
    }
}
