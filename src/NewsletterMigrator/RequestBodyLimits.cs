using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator;

/// <summary>
/// How much of a request body is read, per route (issue 13). Every form gets <see cref="FormBytes"/>, so a huge
/// POST to the sign-up form is refused unread. A page marked <see cref="AcceptsUploadAttribute"/> takes a file of
/// up to Import:MaxUploadBytes; a larger one is answered with the page's own "file too large" message, never
/// Kestrel's bare 413 or the antiforgery check's generic 400 (both read the body first and fail halfway).
/// Runs after routing (it needs the endpoint) and after authorization (only staff make it read an upload).
/// </summary>
public sealed class RequestBodyLimits(RequestDelegate next, IOptions<ImportOptions> import)
{
    /// <summary>
    /// The body limit of every route but an upload (Kestrel's default is 30 MB). The largest legitimate form is a
    /// campaign's Markdown, far below this; the WhatsApp webhook has the same cap of its own; nginx's default is the same.
    /// </summary>
    public const long FormBytes = 1024 * 1024;

    /// <summary>
    /// What an upload carries besides the file: boundaries, part headers, the antiforgery token and the legal
    /// basis (at most 500 characters). Generous, so a file of exactly the limit is never refused for its envelope.
    /// </summary>
    public const long EnvelopeBytes = 64 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        // The re-executed error page of a refused body must not trip over the same limit again.
        if (context.Features.Get<IStatusCodeReExecuteFeature>() is not null)
        {
            await next(context);
            return;
        }
        if (context.GetEndpoint()?.Metadata.GetMetadata<AcceptsUploadAttribute>() is null)
        {
            if (request.ContentLength > FormBytes)
            {
                // Refused before anything reads it.
                Refuse(context, StatusCodes.Status413PayloadTooLarge);
                return;
            }
            if (request.HasFormContentType && !await FormIsReadableAsync(context)) return;
            await next(context);
            return;
        }

        var fileLimit = import.Value.MaxUploadBytes;
        var bodyLimit = fileLimit > long.MaxValue - EnvelopeBytes ? long.MaxValue : fileLimit + EnvelopeBytes;
        var bodySize = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (request.ContentLength > bodyLimit)
        {
            // Answered before the body is read. Lifting the limit lets Kestrel drain the rest for its fixed five
            // seconds after the answer instead of resetting the connection at once, which would often stop the
            // browser from showing the answer at all.
            if (bodySize is { IsReadOnly: false }) bodySize.MaxRequestBodySize = null;
            RefuseTooLarge(context);
            return;
        }
        if (bodySize is { IsReadOnly: false }) bodySize.MaxRequestBodySize = bodyLimit;
        if (request.HasFormContentType)
        {
            // The form is read here, before the antiforgery check and model binding, so that a body that outgrows
            // the limit while it is read (chunked, without Content-Length) gets the same message. Files above 64 KB
            // are buffered on disk by the form reader, never in memory.
            context.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions { MultipartBodyLengthLimit = bodyLimit }));
            try
            {
                var form = await request.ReadFormAsync(context.RequestAborted);
                if (form.Files.Any(f => f.Length > fileLimit))
                {
                    RefuseTooLarge(context);
                    return;
                }
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                RefuseTooLarge(context);
                return;
            }
            catch (Exception ex) when (IsMalformed(ex))
            {
                Refuse(context, StatusCodes.Status400BadRequest);
                return;
            }
        }
        await next(context);
    }

    /// <summary>
    /// Reads a form body once, here, so that a malformed one (multipart without a boundary, a cut-off part, more
    /// than 1,024 fields) is a 400 for every route. Pages with an antiforgery check got that from the check; a page
    /// without one (the one-click unsubscribe, RFC 8058) met the form reader's exception in its handler: 500. The
    /// form stays in the request's form feature, so nothing reads it twice.
    /// </summary>
    private static async Task<bool> FormIsReadableAsync(HttpContext context)
    {
        try
        {
            await context.Request.ReadFormAsync(context.RequestAborted);
            return true;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Sent without a Content-Length and grew past the limit while it was read.
            Refuse(context, StatusCodes.Status413PayloadTooLarge);
            return false;
        }
        catch (Exception ex) when (IsMalformed(ex))
        {
            Refuse(context, StatusCodes.Status400BadRequest);
            return false;
        }
    }

    /// <summary>What the form reader throws for a body that is not the form it claims to be.</summary>
    private static bool IsMalformed(Exception ex) => ex is InvalidDataException or IOException or BadHttpRequestException;

    /// <summary>A refusal shown as the error page; the re-executed page sees an empty form, not the refused body.</summary>
    private static void Refuse(HttpContext context, int status)
    {
        context.Features.Set<IFormFeature>(new FormFeature(FormCollection.Empty));
        context.Response.StatusCode = status;
    }

    /// <summary>Back to the page, which shows the limit in the editor's language; nothing has been stored.</summary>
    private static void RefuseTooLarge(HttpContext context) =>
        context.Response.Redirect($"{context.Request.PathBase}{context.Request.Path}?tooLarge=true");
}
