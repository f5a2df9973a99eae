using Microsoft.AspNetCore.Http.HttpResults;

namespace NewsletterMigrator.Api;

/// <summary>
/// Every expected failure of the API as an RFC 9457 problem, in English (the readers are developers): a stable
/// <c>type</c> per kind, a short <c>title</c>, and a <c>detail</c> that says what to do. The type URIs are tag URIs
/// (RFC 4151, as RFC 9457's own examples): identifiers, not pages to fetch; the admin reference page lists them.
/// </summary>
public static class ApiProblems
{
    public const string TypePrefix = "tag:newsletter-migrator,2026:problem:";

    /// <summary>Each kind with its status and title, for the reference page and the OpenAPI descriptions.</summary>
    public static readonly IReadOnlyList<(string Code, int Status, string Title)> Kinds =
    [
        ("unauthorized", 401, "Missing or invalid API key"),
        ("missing-scope", 403, "The API key lacks the scope"),
        ("not-found", 404, "Not found"),
        ("validation", 400, "The request is invalid"),
        ("bad-request", 400, "The request body could not be read"),
        ("conflict", 409, "Not possible in the campaign's state"),
        ("newsletter-not-open", 409, "The newsletter's legal identity is incomplete"),
        ("consent-text-not-current", 409, "Not the current consent text"),
        ("rate-limited", 429, "Too many requests"),
        ("internal", 500, "Internal error"),
    ];

    public static ProblemHttpResult Of(string code, string detail, IDictionary<string, object?>? extensions = null)
    {
        var (_, status, title) = Kinds.Single(k => k.Code == code);
        return TypedResults.Problem(detail, statusCode: status, title: title, type: TypePrefix + code, extensions: extensions);
    }

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: "One or more fields are invalid; see errors.", title: "The request is invalid",
            type: TypePrefix + "validation");

    public static ValidationProblem Validation(string field, string message) => Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NewsletterNotFound(string slug) =>
        Of("not-found", $"There is no newsletter '{slug}' for this API key.");

    public static ProblemHttpResult CampaignNotFound(string slug, int id) =>
        Of("not-found", $"Newsletter '{slug}' has no campaign {id}.");

    public static ProblemHttpResult NotOpen(string slug) =>
        Of("newsletter-not-open", $"Newsletter '{slug}' has no complete legal identity yet (controller, Impressum, privacy notice): "
            + "it takes no sign-ups and sends nothing until an admin completes its settings (C38).");

    /// <summary>Writes a problem outside an endpoint (authentication, rate limit, unreadable body, no such route).</summary>
    public static Task WriteAsync(HttpContext context, string code, string detail) => Of(code, detail).ExecuteAsync(context);
}
