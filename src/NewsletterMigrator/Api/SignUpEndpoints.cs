using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Api;

/// <summary>
/// A sign-up from the portal's own form, under the rules of the sign-up pages: the same <see cref="SignUpService"/>
/// (DOI mail, per-address limit and resend interval, daily DOI cap C42, legal readiness C38), the same answer for every
/// address and its minimum duration (C30), and the per-network limit of the reader's IP (C31), counted in the same
/// windows as the pages' on PostgreSQL. Recorded with page "api", the reader's IP and user agent, and the consent-text
/// version the reader saw, which must be the current one.
/// </summary>
public static class SignUpEndpoints
{
    public const string Page = "api";
    public const int UserAgentMaxLength = 1000;

    public static void MapSignUpEndpoints(this RouteGroupBuilder newsletter)
    {
        newsletter.MapGet("/consent-text", GetConsentTextAsync).RequireScope(ApiScopes.SubscribersWrite).WithTags("Subscribers")
            .WithName("GetConsentText").WithSummary("The consent text to show on the portal's form")
            .WithDescription("The current version in the language asked for (de or en; default: the newsletter's). Show statement, "
                + "privacy information, objection note and Impressum as given, and send the id with the sign-up.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        newsletter.MapPost("/sign-ups", SignUpAsync).RequireScope(ApiScopes.SubscribersWrite).WithTags("Subscribers")
            .WithName("StartSignUp").WithSummary("Start a sign-up (double opt-in)")
            .WithDescription("Sends the confirmation mail (DOI) under the rules of the sign-up pages; the reader is subscribed once they "
                + "confirm. The answer is the same whatever the address's state. Recorded as proof with page 'api'.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Ok<ConsentTextResponse>, ValidationProblem, ProblemHttpResult>> GetConsentTextAsync(
        string slug, string? language, ClaimsPrincipal user, AppDbContext db, ConsentTextService texts, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (language is not null && !Languages.Supported.Contains(language)) return ApiProblems.Validation("language", "Use de or en.");
        if (!LegalReadiness.IsOpen(newsletter)) return ApiProblems.NotOpen(slug);
        if (await texts.ShowToReaderAsync(newsletter, language ?? newsletter.DefaultLanguage, ct) is not { } text)
            return ApiProblems.Of("not-found", $"Newsletter '{slug}' has no consent text.");
        return TypedResults.Ok(new ConsentTextResponse(text.Id, text.Version, text.Language, text.Statement, text.PrivacyInformation,
            text.PrivacyNoticeUrl, text.PrivacyNoticeVersion, text.ObjectionNote, text.Impressum, text.Sha256));
    }

    private static async Task<Results<Accepted<SignUpAccepted>, ValidationProblem, ProblemHttpResult>> SignUpAsync(
        string slug, SignUpRequestBody body, ClaimsPrincipal user, HttpContext http, AppDbContext db, ConsentTextService texts,
        SignUpService signUps, RateWindows windows, IOptions<ConsentOptions> options, TimeProvider clock, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        var errors = Validate(body, out var readerIp);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (!LegalReadiness.IsOpen(newsletter)) return ApiProblems.NotOpen(slug);

        // The version the reader saw must be the one the form shows now: an older one may lack what the settings say today.
        var seen = await db.ConsentTexts.AsNoTracking().SingleOrDefaultAsync(c => c.Id == body.ConsentTextId && c.NewsletterId == newsletter.Id, ct);
        var current = seen is null ? null : await texts.ForReaderAsync(newsletter, seen.Language, ct);
        if (seen is null || current is null || current.Id != seen.Id || !await texts.MarkShownAsync(current, ct))
        {
            var now = await texts.ForReaderAsync(newsletter, seen?.Language ?? newsletter.DefaultLanguage, ct);
            return ApiProblems.Of("consent-text-not-current",
                (seen is null ? $"Newsletter '{slug}' has no consent text {body.ConsentTextId}." : $"Consent text {seen.Id} is not the current version.")
                + $" Show the reader the current text (GET {ApiRequestGuard.BasePath}/newsletters/{slug}/consent-text) and submit its id.",
                new Dictionary<string, object?> { ["currentConsentTextId"] = now?.Id });
        }

        var started = Stopwatch.GetTimestamp();
        // C31 per network of the reader, in the windows the pages use on PostgreSQL ("sign-up" and the network's key).
        var limit = Math.Max(1, options.Value.SignUpsPerIpPerHour);
        if (!await windows.TryTakeAsync("sign-up", ClientNetwork.Key(readerIp), limit, TimeSpan.FromHours(1), ct))
            return TooMany(http, "Too many sign-ups from the reader's network in the last hour.");

        var outcome = await signUps.SignUpAsync(new SignUpRequest(newsletter, seen, body.Email!.Trim(), body.Language ?? seen.Language, null,
            readerIp!.ToString(), Trim(body.ReaderUserAgent!), Page) { AgeConfirmed = true }, ct);
        if (outcome == SignUpOutcome.Accepted)
        {
            db.Audit(user.AuditName(), "sign-up", $"{Redact.Email(body.Email)} for {slug}", clock.GetUtcNow().UtcDateTime);
            await db.SaveChangesAsync(ct);
        }
        // Every answer takes at least as long as the sign-up form's (C30).
        var remaining = signUps.MinimumDuration - Stopwatch.GetElapsedTime(started);
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining, ct);
        return outcome switch
        {
            SignUpOutcome.InvalidEmail => ApiProblems.Validation("email", "This is not a valid email address."),
            SignUpOutcome.TooManyForAddress => TooMany(http, "Too many sign-ups for this address in the last hour."),
            SignUpOutcome.NotOpen => ApiProblems.NotOpen(slug),
            _ => TypedResults.Accepted((string?)null, new SignUpAccepted("accepted",
                "If the address can be subscribed, a confirmation mail is on its way; the reader is subscribed once they confirm.")),
        };
    }

    private static Dictionary<string, string[]> Validate(SignUpRequestBody body, out IPAddress? readerIp)
    {
        var errors = new Dictionary<string, string[]>();
        readerIp = null;
        if (string.IsNullOrWhiteSpace(body.Email)) errors["email"] = ["The email address is required."];
        else if (body.Email.Trim().Length > 254 || !EmailAddress.TryNormalize(body.Email.Trim(), out _)) errors["email"] = ["This is not a valid email address."];
        if (body.ConsentTextId is null) errors["consentTextId"] = ["Name the consent-text version the reader saw (GET …/consent-text)."];
        if (body.Consent != true) errors["consent"] = ["The reader must tick the consent box themselves (it starts unticked); send true only then."];
        if (body.AgeConfirmed != true) errors["ageConfirmed"] = ["The reader must confirm being 16 or older."];
        if (string.IsNullOrWhiteSpace(body.ReaderIp) || !IPAddress.TryParse(body.ReaderIp.Trim(), out readerIp))
            errors["readerIp"] = ["The reader's IP address (IPv4 or IPv6) is required as proof of the sign-up."];
        if (string.IsNullOrWhiteSpace(body.ReaderUserAgent)) errors["readerUserAgent"] = ["The reader's user agent is required as proof of the sign-up."];
        if (body.Language is not null && !Languages.Supported.Contains(body.Language)) errors["language"] = ["Use de or en."];
        return errors;
    }

    private static string Trim(string userAgent) => userAgent.Length > UserAgentMaxLength ? userAgent[..UserAgentMaxLength] : userAgent;

    private static ProblemHttpResult TooMany(HttpContext http, string detail)
    {
        http.Response.Headers.RetryAfter = "3600";
        return ApiProblems.Of("rate-limited", detail + " Try again after the time in Retry-After.");
    }
}
