using System.ComponentModel;
using System.Text.Json.Serialization;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Api;

[JsonConverter(typeof(JsonStringEnumConverter<CampaignState>))]
public enum CampaignState
{
    [JsonStringEnumMemberName("draft")] Draft,
    [JsonStringEnumMemberName("scheduled")] Scheduled,
    [JsonStringEnumMemberName("preparing")] Preparing,
    [JsonStringEnumMemberName("sending")] Sending,
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("sent")] Sent,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

public sealed record CreateCampaignRequest(
    [property: Description("The mail's subject, at most 200 characters.")] string? Subject,
    [property: Description("The body in Markdown; rendered and sanitised once when sending starts.")] string? Markdown,
    [property: Description("The preview line after the subject in most inboxes, at most 200 characters (optional).")] string? Preheader = null);

public sealed record ScheduleCampaignRequest(
    [property: Description("When the campaign starts by itself: an ISO 8601 instant with its offset, e.g. 2026-12-24T07:00:00Z; in the future.")] string? StartAt);

public sealed record CampaignProgressResponse(
    [property: Description("Readers the campaign was written for (confirmed subscribers when it started).")] int Recipients,
    [property: Description("Mails the SMTP server accepted.")] int Sent,
    [property: Description("Mails refused for good.")] int Failed,
    [property: Description("Mails waiting or being sent.")] int Queued,
    [property: Description("Mails not sent because the campaign was cancelled or the reader withdrew.")] int Cancelled,
    [property: Description("Sent, failed and cancelled as a share of the recipients, 0–100.")] int Percent,
    [property: Description("Mails per second over the last minute.")] double MessagesPerSecond,
    [property: Description("Estimated seconds until every mail is out; null while unknown.")] int? SecondsLeft,
    [property: Description("Why a paused campaign is paused.")] string? PauseReason);

public sealed record CampaignResponse(
    int Id,
    [property: Description("The newsletter's slug.")] string Newsletter,
    string Subject,
    string Preheader,
    string Markdown,
    CampaignState Status,
    DateTimeOffset CreatedAt,
    [property: Description("When a scheduled campaign starts.")] DateTimeOffset? ScheduledFor,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    CampaignProgressResponse Progress)
{
    public static CampaignResponse Of(string slug, Campaign c, CampaignProgress.Snapshot? p) => new(
        c.Id, slug, c.Subject, c.Preheader, c.BodyMarkdown, Enum.Parse<CampaignState>(c.Status.ToString()),
        ApiNewsletters.Instant(c.CreatedAtUtc)!.Value, ApiNewsletters.Instant(c.ScheduledForUtc), ApiNewsletters.Instant(c.StartedAtUtc),
        ApiNewsletters.Instant(c.CompletedAtUtc),
        p is null ? new(0, 0, 0, 0, 0, 0, 0, null, null)
            : new(p.Recipients, p.Sent, p.Failed, p.Queued, p.Cancelled, p.Percent, p.MessagesPerSecond,
                p.TimeLeft is { } left ? (int)Math.Ceiling(left.TotalSeconds) : null, p.PauseReason));
}
