using System.ComponentModel;
using System.Text.Json.Serialization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Api;

[JsonConverter(typeof(JsonStringEnumConverter<FeedModeName>))]
public enum FeedModeName
{
    [JsonStringEnumMemberName("breaking")] Breaking,
    [JsonStringEnumMemberName("digest")] Digest,
}

public sealed record FeedRequest(
    [property: Description("The CMS's RSS 2.0, Atom or JSON Feed URL (http or https).")] string? Url,
    [property: Description("breaking: each matching item becomes a campaign at once; digest: the items since the last digest, at a set time.")] FeedModeName? Mode,
    [property: Description("True: campaigns go out by themselves; false (default): each waits as a draft for an editor's approval.")] bool? AutoSend = null,
    [property: Description("Only items with this category or tag (case-insensitive); empty: every item.")] string? Category = null,
    [property: Description("Breaking mode: at most this many automatic campaigns per Berlin day (1–50, default 5); later items wait for approval.")] int? MaxPerDay = null,
    [property: Description("Digest mode: the Berlin time, HH:mm (default 18:00).")] string? DigestAt = null,
    [property: Description("Digest mode: the weekdays, of mon, tue, wed, thu, fri, sat, sun (default mon–fri).")] string[]? DigestDays = null,
    [property: Description("False pauses polling (default true).")] bool? Enabled = null);

public sealed record FeedResponse(
    int Id,
    [property: Description("The newsletter's slug.")] string Newsletter,
    string Url,
    [property: Description("The feed's own title as it last answered.")] string? Title,
    FeedModeName Mode,
    bool AutoSend,
    string? Category,
    int MaxPerDay,
    [property: Description("Digest mode: the Berlin time, HH:mm.")] string DigestAt,
    string[] DigestDays,
    bool Enabled,
    [property: Description("Digest mode: when the next digest is due.")] DateTimeOffset? NextDigestAt,
    DateTimeOffset? LastPolledAt,
    DateTimeOffset? LastSuccessAt,
    [property: Description("Failed polls in a row; the next try waits longer with each.")] int ConsecutiveFailures,
    [property: Description("The last failure (kind and detail, never the URL's query).")] string? LastError,
    DateTimeOffset NextPollAt)
{
    public static FeedResponse Of(string slug, Feed f) => new(
        f.Id, slug, f.Url, f.Title, f.Mode == FeedMode.Digest ? FeedModeName.Digest : FeedModeName.Breaking, f.AutoSend, f.Category, f.MaxPerDay,
        DigestSchedule.FormatTime(f.DigestMinuteOfDay),
        DigestSchedule.DayNamesOf(f.DigestWeekdays),
        f.Enabled, ApiNewsletters.Instant(f.NextDigestAtUtc), ApiNewsletters.Instant(f.LastPolledAtUtc), ApiNewsletters.Instant(f.LastSuccessAtUtc),
        f.ConsecutiveFailures, f.LastError, ApiNewsletters.Instant(f.NextPollAtUtc)!.Value);
}
