using NewsletterMigrator.Data;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// What a feed would send now, from its current items: the newest matching item as breaking news, or the matching items
/// as a digest. Fetched afresh (no validators, nothing stored): a preview changes nothing.
/// </summary>
public sealed class FeedPreview(FeedFetcher fetcher, FeedMail mail, TimeProvider clock)
{
    public sealed record Entry(FeedEntry Item, bool Matches);

    /// <summary>The feed's items with whether the rule takes them, and the sample campaign (null when nothing matches), or the failure.</summary>
    public sealed record Result(IReadOnlyList<Entry> Entries, Campaign? Sample, FetchResult.Failed? Failure);

    public async Task<Result> BuildAsync(Feed feed, Newsletter newsletter, CancellationToken ct)
    {
        var fetched = await fetcher.FetchAsync(new Uri(feed.Url), null, ct);
        if (fetched is FetchResult.Failed failed) return new Result([], null, failed);
        var entries = (fetched as FetchResult.Fetched)?.Entries.Select(e => new Entry(e, FeedPolling.Matches(feed, e))).ToList() ?? [];
        var now = clock.GetUtcNow().UtcDateTime;
        var matching = entries.Where(e => e.Matches).Select(e => ToItem(e.Item, now)).ToList();
        FeedMail.Draft? draft = feed.Mode == FeedMode.Breaking
            ? matching.OrderByDescending(i => i.PublishedUtc ?? DateTime.MinValue).FirstOrDefault() is { } newest ? mail.Breaking(newsletter, newest) : null
            : matching.Count > 0 ? mail.Digest(newsletter, matching.Take(FeedMail.MaxDigestItems).ToList(), now) : null;
        var sample = draft is null ? null : new Campaign
        {
            NewsletterId = newsletter.Id, Subject = draft.Subject, Preheader = draft.Preheader, BodyMarkdown = draft.BodyMarkdown,
            FeedId = feed.Id, Breaking = feed.Mode == FeedMode.Breaking,
        };
        return new Result(entries, sample, null);
    }

    private static FeedItem ToItem(FeedEntry entry, DateTime now) => new()
    {
        KeyHash = "", Title = entry.Title, Link = entry.Link, Summary = entry.Summary, ImageUrl = entry.ImageUrl,
        PublishedUtc = entry.PublishedUtc, FirstSeenAtUtc = now, State = FeedItemState.Pending,
    };
}
