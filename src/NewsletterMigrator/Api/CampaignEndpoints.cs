using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Api;

/// <summary>
/// A newsletter's campaigns through the API: the same <see cref="CampaignService"/> as the admin pages, with the key's
/// audit name as the user. States that do not allow an action are checked first and answered as a 409 problem; the
/// service's own refusal (a race with an editor) gives the same answer.
/// </summary>
public static class CampaignEndpoints
{
    public const int SubjectMaxLength = 200;

    public static void MapCampaignEndpoints(this RouteGroupBuilder newsletter)
    {
        var campaigns = newsletter.MapGroup("/campaigns").WithTags("Campaigns");
        campaigns.MapPost("", CreateAsync).RequireScope(ApiScopes.CampaignsWrite)
            .WithName("CreateCampaign").WithSummary("Create a campaign draft")
            .WithDescription("Stores a draft with subject, preheader and Markdown body. It is sent only by the send or schedule operation.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        campaigns.MapGet("/{id:int}", GetAsync).RequireScope(ApiScopes.CampaignsRead)
            .WithName("GetCampaign").WithSummary("Read a campaign and its progress")
            .WithDescription("The campaign with live sending figures from the outbox (sent, failed, queued, rate, time left).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        campaigns.MapPost("/{id:int}/schedule", ScheduleAsync).RequireScope(ApiScopes.CampaignsWrite)
            .WithName("ScheduleCampaign").WithSummary("Schedule a draft")
            .WithDescription("The campaign starts by itself at the given instant (UTC or with offset, ISO 8601). A scheduled campaign can be scheduled again.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        campaigns.MapPost("/{id:int}/send", SendAsync).RequireScope(ApiScopes.CampaignsWrite)
            .WithName("SendCampaign").WithSummary("Send a campaign now")
            .WithDescription("Writes one mail per confirmed subscriber into the outbox and starts sending; answers when every mail is queued.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        campaigns.MapPost("/{id:int}/cancel", CancelAsync).RequireScope(ApiScopes.CampaignsWrite)
            .WithName("CancelCampaign").WithSummary("Cancel a scheduled or sending campaign")
            .WithDescription("Mails not yet handed to the SMTP server are cancelled; sent mails stay in the report.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Created<CampaignResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        string slug, CreateCampaignRequest body, ClaimsPrincipal user, AppDbContext db, CampaignService campaigns, TimeProvider clock, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        var errors = new Dictionary<string, string[]>();
        var subject = body.Subject?.Trim() ?? "";
        var preheader = body.Preheader?.Trim() ?? "";
        if (subject.Length == 0) errors["subject"] = ["The subject is required."];
        else if (subject.Length > SubjectMaxLength) errors["subject"] = [$"The subject has at most {SubjectMaxLength} characters."];
        if (preheader.Length > SubjectMaxLength) errors["preheader"] = [$"The preheader has at most {SubjectMaxLength} characters."];
        if (string.IsNullOrWhiteSpace(body.Markdown)) errors["markdown"] = ["The Markdown body is required."];
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        // The draft and its audit row together, or neither.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var id = await campaigns.SaveDraftAsync(newsletter.Id, null, subject, preheader, body.Markdown!, user.AuditName(), ct);
        if (id is null) return ApiProblems.NewsletterNotFound(slug);
        db.Audit(user.AuditName(), "campaign", $"created draft {id} in {slug}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        var created = await campaigns.FindAsync(newsletter.Id, id.Value, ct);
        return TypedResults.Created($"{ApiRequestGuard.BasePath}/newsletters/{slug}/campaigns/{id}", CampaignResponse.Of(slug, created!, null));
    }

    private static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetAsync(
        string slug, int id, ClaimsPrincipal user, AppDbContext db, CampaignService campaigns, CampaignProgress progress, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (await campaigns.FindAsync(newsletter.Id, id, ct) is not { } campaign) return ApiProblems.CampaignNotFound(slug, id);
        return TypedResults.Ok(CampaignResponse.Of(slug, campaign, await progress.GetAsync(newsletter.Id, id, ct)));
    }

    private static async Task<Results<Ok<CampaignResponse>, ValidationProblem, ProblemHttpResult>> ScheduleAsync(
        string slug, int id, ScheduleCampaignRequest body, ClaimsPrincipal user, AppDbContext db, CampaignService campaigns, CampaignProgress progress,
        TimeProvider clock, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (await campaigns.FindAsync(newsletter.Id, id, ct) is not { } campaign) return ApiProblems.CampaignNotFound(slug, id);
        if (ParseInstant(body.StartAt) is not { } startAt)
            return ApiProblems.Validation("startAt", "Give an ISO 8601 instant with its offset, e.g. 2026-12-24T07:00:00Z.");
        if (startAt <= clock.GetUtcNow().UtcDateTime) return ApiProblems.Validation("startAt", "The time lies in the past.");
        if (campaign.Status is not (CampaignStatus.Draft or CampaignStatus.Scheduled))
            return Conflict(campaign, "Only a draft or a scheduled campaign can be scheduled.");
        if (!LegalReadiness.IsOpen(newsletter)) return ApiProblems.NotOpen(slug);
        try
        {
            await campaigns.ScheduleAsync(newsletter.Id, id, startAt, user.AuditName(), ct);
        }
        catch (LegalIdentityIncompleteException) { return ApiProblems.NotOpen(slug); }
        catch (InvalidOperationException) { return Conflict(campaign, "Only a draft or a scheduled campaign can be scheduled."); }
        return TypedResults.Ok(await ResponseAsync(slug, newsletter.Id, id, campaigns, progress, ct));
    }

    private static async Task<Results<Accepted<CampaignResponse>, ProblemHttpResult>> SendAsync(
        string slug, int id, ClaimsPrincipal user, AppDbContext db, CampaignService campaigns, CampaignProgress progress, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (await campaigns.FindAsync(newsletter.Id, id, ct) is not { } campaign) return ApiProblems.CampaignNotFound(slug, id);
        if (campaign.Status is not (CampaignStatus.Draft or CampaignStatus.Scheduled))
            return Conflict(campaign, "This campaign has already been started.");
        if (!LegalReadiness.IsOpen(newsletter)) return ApiProblems.NotOpen(slug);
        try
        {
            await campaigns.StartAsync(newsletter.Id, id, user.AuditName(), ct);
        }
        catch (LegalIdentityIncompleteException) { return ApiProblems.NotOpen(slug); }
        catch (InvalidOperationException) { return Conflict(campaign, "This campaign has already been started."); }
        return TypedResults.Accepted($"{ApiRequestGuard.BasePath}/newsletters/{slug}/campaigns/{id}",
            await ResponseAsync(slug, newsletter.Id, id, campaigns, progress, ct));
    }

    private static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> CancelAsync(
        string slug, int id, ClaimsPrincipal user, AppDbContext db, CampaignService campaigns, CampaignProgress progress, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (await campaigns.FindAsync(newsletter.Id, id, ct) is not { } campaign) return ApiProblems.CampaignNotFound(slug, id);
        const string refusal = "Only a scheduled, preparing, sending or paused campaign can be cancelled.";
        if (campaign.Status is not (CampaignStatus.Scheduled or CampaignStatus.Preparing or CampaignStatus.Sending or CampaignStatus.Paused))
            return Conflict(campaign, refusal);
        try
        {
            await campaigns.CancelAsync(newsletter.Id, id, user.AuditName(), ct);
        }
        catch (InvalidOperationException) { return Conflict(campaign, refusal); }
        return TypedResults.Ok(await ResponseAsync(slug, newsletter.Id, id, campaigns, progress, ct));
    }

    /// <summary>An ISO 8601 instant that names its offset ("Z" or "+01:00"): a bare local time would be a guess.</summary>
    internal static DateTime? ParseInstant(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var text = value.Trim();
        var namesOffset = text.EndsWith('Z') || text.EndsWith('z') || System.Text.RegularExpressions.Regex.IsMatch(text, @"[+-]\d{2}:?\d{2}$");
        return namesOffset && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant) && text.Contains('T')
            ? instant.UtcDateTime
            : null;
    }

    private static ProblemHttpResult Conflict(Campaign campaign, string detail) =>
        ApiProblems.Of("conflict", $"{detail} Campaign {campaign.Id} is {campaign.Status.ToString().ToLowerInvariant()}.");

    private static async Task<CampaignResponse> ResponseAsync(string slug, int newsletterId, int id, CampaignService campaigns, CampaignProgress progress, CancellationToken ct) =>
        CampaignResponse.Of(slug, (await campaigns.FindAsync(newsletterId, id, ct))!, await progress.GetAsync(newsletterId, id, ct));
}
