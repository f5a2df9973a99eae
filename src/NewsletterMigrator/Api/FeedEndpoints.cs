using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Api;

/// <summary>
/// A newsletter's feeds through the API: the same <see cref="FeedService"/> (and so the same rules and audit trail) as
/// the feed pages and <c>add-feed</c>. A feed's drafts are approved with the campaign send operation.
/// </summary>
public static class FeedEndpoints
{
    public static void MapFeedEndpoints(this RouteGroupBuilder newsletter)
    {
        var feeds = newsletter.MapGroup("/feeds").WithTags("Feeds");
        feeds.MapGet("", ListAsync).RequireScope(ApiScopes.FeedsRead)
            .WithName("ListFeeds").WithSummary("List the newsletter's feeds")
            .WithDescription("Each feed with its settings and polling health (last poll, failures in a row, last error, next try).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        feeds.MapPost("", CreateAsync).RequireScope(ApiScopes.FeedsWrite)
            .WithName("CreateFeed").WithSummary("Add a feed")
            .WithDescription("Polled at once; what the feed holds then is its baseline and is never sent. Each later item is sent at most once.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        feeds.MapGet("/{id:int}", GetAsync).RequireScope(ApiScopes.FeedsRead)
            .WithName("GetFeed").WithSummary("Read a feed")
            .ProducesProblem(StatusCodes.Status404NotFound);
        feeds.MapPut("/{id:int}", UpdateAsync).RequireScope(ApiScopes.FeedsWrite)
            .WithName("UpdateFeed").WithSummary("Change a feed")
            .WithDescription("Replaces the settings (omitted fields take their defaults). A new URL starts from a fresh baseline.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        feeds.MapDelete("/{id:int}", DeleteAsync).RequireScope(ApiScopes.FeedsWrite)
            .WithName("DeleteFeed").WithSummary("Remove a feed")
            .WithDescription("Removes the feed and its items; the campaigns made from it stay.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<FeedResponse[]>, ProblemHttpResult>> ListAsync(
        string slug, ClaimsPrincipal user, AppDbContext db, FeedService feeds, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        return TypedResults.Ok((await feeds.ListAsync(newsletter.Id, ct)).Select(f => FeedResponse.Of(slug, f)).ToArray());
    }

    private static async Task<Results<Ok<FeedResponse>, ProblemHttpResult>> GetAsync(
        string slug, int id, ClaimsPrincipal user, AppDbContext db, FeedService feeds, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        return await feeds.FindAsync(newsletter.Id, id, ct) is { } feed ? TypedResults.Ok(FeedResponse.Of(slug, feed)) : FeedNotFound(slug, id);
    }

    private static async Task<Results<Created<FeedResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        string slug, FeedRequest body, ClaimsPrincipal user, AppDbContext db, FeedService feeds, IStringLocalizer<SharedResource> text, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (Settings(body, out var unreadable) is not { } settings) return unreadable!;
        var result = await feeds.AddAsync(newsletter.Id, settings, user.AuditName(), ct);
        if (result.NotFound) return ApiProblems.NewsletterNotFound(slug);
        if (!result.Saved) return Refused(result, text);
        var feed = (await feeds.FindAsync(newsletter.Id, result.FeedId!.Value, ct))!;
        return TypedResults.Created($"{ApiRequestGuard.BasePath}/newsletters/{slug}/feeds/{feed.Id}", FeedResponse.Of(slug, feed));
    }

    private static async Task<Results<Ok<FeedResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string slug, int id, FeedRequest body, ClaimsPrincipal user, AppDbContext db, FeedService feeds, IStringLocalizer<SharedResource> text, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (Settings(body, out var unreadable) is not { } settings) return unreadable!;
        var result = await feeds.UpdateAsync(newsletter.Id, id, settings, user.AuditName(), ct);
        if (result.NotFound) return FeedNotFound(slug, id);
        if (!result.Saved) return Refused(result, text);
        return TypedResults.Ok(FeedResponse.Of(slug, (await feeds.FindAsync(newsletter.Id, id, ct))!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string slug, int id, ClaimsPrincipal user, AppDbContext db, FeedService feeds, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        return await feeds.DeleteAsync(newsletter.Id, id, user.AuditName(), ct) ? TypedResults.NoContent() : FeedNotFound(slug, id);
    }

    /// <summary>
    /// The request as settings, or the fields that cannot be read at all (no mode, a time or weekday in another shape); the
    /// rules about the values themselves are FeedService's, answered by <see cref="Refused"/>.
    /// </summary>
    private static FeedSettings? Settings(FeedRequest body, out ValidationProblem? unreadable)
    {
        var minute = body.DigestAt is null ? DigestSchedule.DefaultMinuteOfDay : DigestSchedule.ParseTime(body.DigestAt);
        var days = body.DigestDays is null ? DigestSchedule.MondayToFriday : DigestSchedule.ParseDays(body.DigestDays);
        var errors = new Dictionary<string, string[]>();
        if (body.Mode is null) errors["mode"] = ["Give the mode: breaking or digest."];
        if (minute is null) errors["digestAt"] = ["Give the time as HH:mm, e.g. 18:00."];
        if (days is null) errors["digestDays"] = ["Name the days as mon, tue, wed, thu, fri, sat, sun."];
        unreadable = errors.Count > 0 ? ApiProblems.Validation(errors) : null;
        if (unreadable is not null) return null;
        return new FeedSettings(body.Url ?? "", body.Mode == FeedModeName.Digest ? FeedMode.Digest : FeedMode.Breaking, body.AutoSend ?? false,
            body.Category, body.MaxPerDay ?? 5, minute!.Value, days!.Value, body.Enabled ?? true);
    }

    /// <summary>The feed pages' own messages, in English for API consumers, keyed by the request's field names.</summary>
    private static ValidationProblem Refused(FeedSaveResult result, IStringLocalizer<SharedResource> text)
    {
        using var english = new CultureScope("en");
        return ApiProblems.Validation(result.Errors.ToDictionary(e => e.Key switch
        {
            FeedField.Url => "url",
            FeedField.Category => "category",
            FeedField.MaxPerDay => "maxPerDay",
            FeedField.DigestTime => "digestAt",
            _ => "digestDays",
        }, e => new[] { text[e.Value].Value }));
    }

    private static ProblemHttpResult FeedNotFound(string slug, int id) => ApiProblems.Of("not-found", $"Newsletter '{slug}' has no feed {id}.");
}
