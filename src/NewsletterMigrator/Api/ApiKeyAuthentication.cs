using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Api;

/// <summary>
/// <c>Authorization: Bearer nmk_…</c> for /api/v1 only. It is never the default scheme: the API's policies name it
/// (<see cref="ApiAuthorization"/>), so the authorization middleware authenticates the request with it alone and the
/// staff cookie of the same browser authorizes nothing here (no CSRF through a signed-in admin). Refusals are problems:
/// 401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750) for a missing, unknown, expired or revoked key, 403 for a missing scope.
/// </summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyService keys, TimeProvider clock) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string FailureItem = "nm.api.auth-failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var caller = await keys.FindAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        var failure = caller switch
        {
            null => "The API key is not known.",
            { RevokedAtUtc: not null } => "The API key has been revoked.",
            { ExpiresAtUtc: { } expires } when expires <= clock.GetUtcNow().UtcDateTime => "The API key has expired.",
            _ => null,
        };
        if (failure is not null)
        {
            Context.Items[FailureItem] = failure;
            return AuthenticateResult.Fail(failure);
        }
        await keys.TouchAsync(caller!, Context.RequestAborted);
        return AuthenticateResult.Success(new AuthenticationTicket(ApiPrincipal.Of(caller!, SchemeName), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items[FailureItem] is string failure)
        {
            Response.Headers.WWWAuthenticate = $"Bearer realm=\"api\", error=\"invalid_token\", error_description=\"{failure}\"";
            await ApiProblems.WriteAsync(Context, "unauthorized", failure);
            return;
        }
        // RFC 6750 3.1: a request without credentials gets no error code.
        Response.Headers.WWWAuthenticate = "Bearer realm=\"api\"";
        await ApiProblems.WriteAsync(Context, "unauthorized",
            "Send an API key as 'Authorization: Bearer nmk_…'. Admins create keys under Admin → API keys or with the create-api-key command.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var scope = Context.GetEndpoint()?.Metadata.GetMetadata<ApiScopeMetadata>()?.Scope ?? "?";
        Response.Headers.WWWAuthenticate = $"Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"{scope}\"";
        await ApiProblems.WriteAsync(Context, "missing-scope", $"This operation needs an API key with the scope '{scope}'.");
    }
}

/// <summary>The principal of an API request: the key's id and name, its scopes and the newsletters it is restricted to.</summary>
public static class ApiPrincipal
{
    private const string NewsletterClaim = "nm:newsletter";

    public static ClaimsPrincipal Of(ApiCaller caller, string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, caller.Id.ToString()), new(ClaimTypes.Name, caller.Name) };
        claims.AddRange(caller.Scopes.Select(s => new Claim(ApiScopes.ClaimType, s)));
        claims.AddRange(caller.NewsletterIds.Select(id => new Claim(NewsletterClaim, id.ToString())));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    /// <summary>How the audit log names the key: "api:&lt;key name&gt;".</summary>
    public static string AuditName(this ClaimsPrincipal user) => "api:" + user.Identity!.Name;

    /// <summary>True when the key is restricted to some newsletters (and so may not act installation-wide).</summary>
    public static bool IsRestricted(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == NewsletterClaim);

    public static bool MayUse(this ClaimsPrincipal user, int newsletterId) =>
        !user.IsRestricted() || user.HasClaim(NewsletterClaim, newsletterId.ToString());
}
