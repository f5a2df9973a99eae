using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace NewsletterMigrator.Api;

/// <summary>
/// Makes every answer under /api/v1 a problem document, never the HTML error page or a stack trace. It sits early in the
/// pipeline (right after the status-code pages, which it switches off for the API), so it also covers what answers before
/// an endpoint runs: a body over the size limit (413), a path or method the API does not have (404, 405), a body that is
/// not JSON (415) or not the JSON an operation expects (400, with the parser's words when the JSON itself is broken).
/// </summary>
public sealed class ApiRequestGuard(RequestDelegate next, ILogger<ApiRequestGuard> logger)
{
    public const string BasePath = "/api/v1";
    private const string BadJsonItem = "nm.api.bad-json";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(BasePath, StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
        try
        {
            // Checked here but answered only if the operation's binding fails, so a request without a valid key still
            // gets its 401 first, and the key's scope its 403.
            if (await CheckJsonSyntaxAsync(context)) await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(ex, "API request {Method} {Path} failed", context.Request.Method, context.GetEndpoint()?.DisplayName);
            context.Response.Clear();
            await ApiProblems.WriteAsync(context, "internal", "The request failed on the server; nothing is known to have changed. Try again later.");
            return;
        }
        if (context.Response.HasStarted || context.Response.StatusCode < 400 || context.Response.ContentLength is not null
            || !string.IsNullOrEmpty(context.Response.ContentType))
            return;
        // OPTIONS asks which methods a route serves (RFC 9110, 9.3.7): routing's Allow header is the answer, as on the pages.
        if (HttpMethods.IsOptions(context.Request.Method) && context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentLength = 0;
            return;
        }
        await WriteEmptyErrorAsync(context);
    }

    private static Task WriteEmptyErrorAsync(HttpContext context) => context.Response.StatusCode switch
    {
        StatusCodes.Status400BadRequest => ApiProblems.WriteAsync(context, "bad-request", context.Items[BadJsonItem] is string parser
            ? $"The body is not valid JSON: {parser}"
            : $"The body or a parameter does not have the shape this operation expects (see {BasePath}/openapi.json)."),
        StatusCodes.Status404NotFound => ApiProblems.WriteAsync(context, "not-found", $"There is no API operation at {context.Request.Path} (see {BasePath}/openapi.json)."),
        var status => TypedResults.Problem(status switch
        {
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed here (see {BasePath}/openapi.json).",
            StatusCodes.Status413PayloadTooLarge => $"The body is larger than {RequestBodyLimits.FormBytes / 1024 / 1024} MB.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON with 'Content-Type: application/json'.",
            _ => null,
        }, statusCode: status).ExecuteAsync(context),
    };

    /// <returns>False when the body could not be read at all (too large without a Content-Length): the status says why.</returns>
    private static async Task<bool> CheckJsonSyntaxAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength is 0 || !(request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) ?? false)) return true;
        if (request.ContentLength > RequestBodyLimits.FormBytes) return true; // refused unread by RequestBodyLimits
        request.EnableBuffering();
        try
        {
            using var _ = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException ex)
        {
            context.Items[BadJsonItem] = ex.Message;
        }
        catch (BadHttpRequestException ex)
        {
            context.Response.StatusCode = ex.StatusCode;
            return false;
        }
        request.Body.Position = 0;
        return true;
    }
}
