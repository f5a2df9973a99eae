using Microsoft.AspNetCore.Authorization;

namespace NewsletterMigrator.Api;

/// <summary>The scope an endpoint needs: read by the 403 answer, the OpenAPI document and the reference page.</summary>
public sealed record ApiScopeMetadata(string Scope);

public static class ApiAuthorization
{
    /// <summary>One policy per scope, named like it, authenticating with the API key scheme only.</summary>
    public static void AddScopePolicies(AuthorizationBuilder authorization)
    {
        foreach (var scope in ApiScopes.All)
        {
            authorization.AddPolicy(scope, policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthentication.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(ApiScopes.ClaimType, scope));
        }
    }

    /// <summary>The endpoint needs an API key with <paramref name="scope"/>.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(scope).WithMetadata(new ApiScopeMetadata(scope));
}
