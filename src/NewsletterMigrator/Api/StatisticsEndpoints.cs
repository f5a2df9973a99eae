using System.ComponentModel;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Api;

public sealed record SubscriberCounts(int Pending, int Confirmed, int Unsubscribed, int Bounced);

/// <summary>The migration funnel of every import together, as the admin area's funnel page shows it: contacts per step.</summary>
public sealed record FunnelCounts(
    long Imported, long Invited, long Opened, long SignedUp, long Confirmed, long Unsubscribed,
    [property: Description("Contacts WhatsApp reported as unable to receive messages; beside the funnel, not a step of it.")] long NotOnWhatsApp);

public sealed record CampaignCounts(int Id, string Subject, CampaignState Status, DateTimeOffset? StartedAt, int Recipients, int Sent, int Failed, int Queued, int Cancelled);

public sealed record NewsletterStatistics(
    [property: Description("The newsletter's slug.")] string Newsletter,
    SubscriberCounts Subscribers,
    FunnelCounts Funnel,
    [property: Description("The newest campaigns first, at most 100.")] IReadOnlyList<CampaignCounts> Campaigns);

/// <summary>Counts only, no personal data: what an editor's reports show.</summary>
public static class StatisticsEndpoints
{
    public const int CampaignsShown = 100;

    public static void MapStatisticsEndpoints(this RouteGroupBuilder newsletter) =>
        newsletter.MapGet("/statistics", GetAsync).RequireScope(ApiScopes.StatsRead).WithTags("Statistics")
            .WithName("GetStatistics").WithSummary("Newsletter statistics")
            .WithDescription("Subscribers by status, the migration funnel (contacts per step, all imports together) and per-campaign mail counts.")
            .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<NewsletterStatistics>, ProblemHttpResult>> GetAsync(
        string slug, ClaimsPrincipal user, AppDbContext db, FunnelReport funnel, CancellationToken ct)
    {
        if (await ApiNewsletters.FindAsync(db, user, slug, ct) is not { } newsletter) return ApiProblems.NewsletterNotFound(slug);
        var byStatus = await db.Subscribers.Where(s => s.NewsletterId == newsletter.Id).GroupBy(s => s.Status)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        int Subscribers(SubscriberStatus status) => byStatus.SingleOrDefault(s => s.Key == status)?.Count ?? 0;

        var total = (await funnel.ForNewsletterAsync(newsletter.Id, ct)).Total;
        var campaigns = await db.Campaigns.AsNoTracking().Where(c => c.NewsletterId == newsletter.Id).OrderByDescending(c => c.Id).Take(CampaignsShown)
            .Select(c => new { c.Id, c.Subject, c.Status, c.StartedAtUtc, c.RecipientCount }).ToListAsync(ct);
        var ids = campaigns.Select(c => c.Id).ToList();
        var mails = await db.OutboundMessages.Where(m => m.CampaignId != null && ids.Contains(m.CampaignId.Value) && m.Kind == MessageKind.Campaign)
            .GroupBy(m => new { m.CampaignId, m.Status }).Select(g => new { g.Key.CampaignId, g.Key.Status, Count = g.Count() }).ToListAsync(ct);
        int Mails(int campaignId, params MessageStatus[] statuses) =>
            mails.Where(m => m.CampaignId == campaignId && statuses.Contains(m.Status)).Sum(m => m.Count);

        return TypedResults.Ok(new NewsletterStatistics(slug,
            new SubscriberCounts(Subscribers(SubscriberStatus.Pending), Subscribers(SubscriberStatus.Confirmed),
                Subscribers(SubscriberStatus.Unsubscribed), Subscribers(SubscriberStatus.Bounced)),
            new FunnelCounts(total.Imported, total.Invited, total.Opened, total.SignedUp, total.Confirmed, total.Unsubscribed, total.NotOnWhatsApp),
            [.. campaigns.Select(c => new CampaignCounts(c.Id, c.Subject, Enum.Parse<CampaignState>(c.Status.ToString()), ApiNewsletters.Instant(c.StartedAtUtc),
                c.RecipientCount, Mails(c.Id, MessageStatus.Sent), Mails(c.Id, MessageStatus.Failed),
                Mails(c.Id, MessageStatus.Queued, MessageStatus.Leased), Mails(c.Id, MessageStatus.Cancelled)))]));
    }
}
