using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Api;

/// <summary>
/// Withdrawals and suppressions the portal learns of (its own unsubscribe form, a reader's mail to the newsroom). The
/// answer is the same whether the address was subscribed or listed before: the call says what should be true now.
/// </summary>
public static class SubscriberEndpoints
{
    /// <summary>The withdrawal channel on the consent ledger (C7).</summary>
    public const string Channel = "api";

    public static void MapWithdrawalEndpoints(this RouteGroupBuilder newsletter) =>
        newsletter.MapPost("/withdrawals", WithdrawAsync).RequireScope(ApiScopes.SubscribersWrite).WithTags("Subscribers")
            .WithName("RecordWithdrawal").WithSummary("Record a withdrawal (unsubscribe an address)")
            .WithDescription("Ends the address's subscription to this newsletter at once (queued mail is cancelled), recorded on the consent "
                + "ledger with channel 'api'. Answers 204 whether or not the address was subscribed.")
            .ProducesProblem(StatusCodes.Status404NotFound);

    public static void MapSuppressionEndpoints(this RouteGroupBuilder api) =>
        api.MapPost("/suppressions", SuppressAsync).RequireScope(ApiScopes.SubscribersWrite).WithTags("Subscribers")
            .WithName("RecordSuppression").WithSummary("Suppress an address (installation-wide)")
            .WithDescription("Puts the address's keyed hash on the suppression list: it is never mailed again by any newsletter of this "
                + "installation, and its active subscriptions end. Needs a key that is not restricted to newsletters. Answers 204, also when it was listed already.");

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> WithdrawAsync(
        string slug, AddressRequest body, ClaimsPrincipal user, AppDbContext db, UnsubscribeService unsubscribes, TimeProvider clock, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        if (Address(body) is not { } email) return ApiProblems.Validation("email", "A valid email address is required.");
        var key = EmailAddress.Key(email);
        // The withdrawal (in the caller's transaction, UnsubscribeService) and its audit row together, or neither.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var subscriber = await db.Subscribers.SingleOrDefaultAsync(s => s.NewsletterId == newsletter.Id && s.EmailKey == key, ct);
        var active = subscriber is { Status: SubscriberStatus.Pending or SubscriberStatus.Confirmed };
        if (active) await unsubscribes.WithdrawAsync(subscriber!, Channel, ct);
        db.Audit(user.AuditName(), "withdrawal", $"address {Redact.Email(email)} in {slug} via {Channel}: {(active ? 1 : 0)} subscriptions ended",
            clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SuppressAsync(
        AddressRequest body, ClaimsPrincipal user, ErasureService erasure, CancellationToken ct)
    {
        // The list is the installation's: a key for some newsletters must not end the subscriptions of the others.
        if (user.IsRestricted())
            return ApiProblems.Of("missing-scope", "This API key is restricted to newsletters; the suppression list is installation-wide and needs an unrestricted key.");
        if (Address(body) is not { } email) return ApiProblems.Validation("email", "A valid email address is required.");
        // Audited by the service with the key's name and the address redacted. The region matters only for phone numbers,
        // which this operation does not take (Address requires an email address).
        await erasure.SuppressManuallyAsync(email, "DE", user.AuditName(), ct);
        return TypedResults.NoContent();
    }

    private static string? Address(AddressRequest body) =>
        body.Email?.Trim() is { Length: > 0 and <= 254 } value && value.Contains('@') && EmailAddress.TryNormalize(value, out var email) ? email : null;
}
