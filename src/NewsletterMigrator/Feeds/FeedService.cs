using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Feeds;

/// <summary>What an editor sets for a feed (the admin page, the API and <c>add-feed</c> all come through here).</summary>
public sealed record FeedSettings(string Url, FeedMode Mode, bool AutoSend, string? Category, int MaxPerDay = 5,
    int DigestMinuteOfDay = DigestSchedule.DefaultMinuteOfDay, int DigestWeekdays = DigestSchedule.MondayToFriday, bool Enabled = true);

public enum FeedField { Url, Category, MaxPerDay, DigestTime, DigestWeekdays }

/// <summary>Saved (with the feed's id), not found (no such newsletter or feed), or refused with a message key per field.</summary>
public sealed record FeedSaveResult(int? FeedId, bool NotFound, IReadOnlyDictionary<FeedField, string> Errors)
{
    public bool Saved => FeedId is not null;
}

/// <summary>A newsletter's feeds: add, change, remove. Each feed is found only within its newsletter (as campaigns are).</summary>
public sealed class FeedService(AppDbContext db, TimeProvider clock)
{
    public const int MaxPerDayLimit = 50;

    public Task<List<Feed>> ListAsync(int newsletterId, CancellationToken ct = default) =>
        db.Feeds.AsNoTracking().Where(f => f.NewsletterId == newsletterId).OrderBy(f => f.Id).ToListAsync(ct);

    public Task<Feed?> FindAsync(int newsletterId, int feedId, CancellationToken ct = default) =>
        db.Feeds.AsNoTracking().SingleOrDefaultAsync(f => f.Id == feedId && f.NewsletterId == newsletterId, ct);

    /// <summary>Adds a feed; it is polled at once, and what it holds then is its baseline, never sent.</summary>
    public async Task<FeedSaveResult> AddAsync(int newsletterId, FeedSettings settings, string userName, CancellationToken ct = default)
    {
        if (!await db.Newsletters.AnyAsync(n => n.Id == newsletterId, ct)) return new FeedSaveResult(null, true, Empty);
        var errors = Validate(settings);
        if (errors.Count == 0 && await db.Feeds.AnyAsync(f => f.NewsletterId == newsletterId && f.Url == settings.Url.Trim() && f.Mode == settings.Mode, ct))
            errors[FeedField.Url] = "Feeds_Duplicate";
        if (errors.Count > 0) return new FeedSaveResult(null, false, errors);

        var now = clock.GetUtcNow().UtcDateTime;
        var feed = new Feed { NewsletterId = newsletterId, Url = settings.Url.Trim(), NextPollAtUtc = now, CreatedAtUtc = now, CreatedBy = userName };
        Apply(feed, settings, now);
        db.Feeds.Add(feed);
        await db.SaveChangesAsync(ct);
        db.Audit(userName, "feed-add", $"feed {feed.Id} ({feed.Mode}, {feed.UrlForDisplay()}) of newsletter {newsletterId}", now);
        await db.SaveChangesAsync(ct);
        return new FeedSaveResult(feed.Id, false, Empty);
    }

    /// <summary>
    /// Changes a feed. A new URL starts from a fresh baseline (another feed's items must not all go out as news); a changed
    /// digest schedule takes effect from now; a breaking feed's items still waiting for a digest are dropped.
    /// </summary>
    public async Task<FeedSaveResult> UpdateAsync(int newsletterId, int feedId, FeedSettings settings, string userName, CancellationToken ct = default)
    {
        var feed = await db.Feeds.SingleOrDefaultAsync(f => f.Id == feedId && f.NewsletterId == newsletterId, ct);
        if (feed is null) return new FeedSaveResult(null, true, Empty);
        var errors = Validate(settings);
        if (errors.Count > 0) return new FeedSaveResult(null, false, errors);

        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!string.Equals(feed.Url, settings.Url.Trim(), StringComparison.Ordinal))
        {
            feed.Url = settings.Url.Trim();
            feed.LastSuccessAtUtc = null;
            feed.ETag = null;
            feed.LastModified = null;
            feed.ConsecutiveFailures = 0;
            feed.LastError = null;
            feed.NextPollAtUtc = now;
        }
        Apply(feed, settings, now);
        if (feed.Mode != FeedMode.Digest)
            await db.FeedItems.Where(i => i.FeedId == feedId && i.State == FeedItemState.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(i => i.State, FeedItemState.Skipped), ct);
        db.Audit(userName, "feed-change", $"feed {feedId} ({feed.Mode}, {feed.UrlForDisplay()}) of newsletter {newsletterId}", now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new FeedSaveResult(feedId, false, Empty);
    }

    /// <summary>Removes the feed and its items; the campaigns made from it stay (they are what was sent).</summary>
    public async Task<bool> DeleteAsync(int newsletterId, int feedId, string userName, CancellationToken ct = default)
    {
        var feed = await db.Feeds.SingleOrDefaultAsync(f => f.Id == feedId && f.NewsletterId == newsletterId, ct);
        if (feed is null) return false;
        db.Feeds.Remove(feed);
        db.Audit(userName, "feed-remove", $"feed {feedId} ({feed.UrlForDisplay()}) of newsletter {newsletterId}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static void Apply(Feed feed, FeedSettings settings, DateTime now)
    {
        var scheduleChanged = feed.Mode != settings.Mode || feed.DigestMinuteOfDay != settings.DigestMinuteOfDay
                              || feed.DigestWeekdays != settings.DigestWeekdays || feed.NextDigestAtUtc is null;
        feed.Mode = settings.Mode;
        feed.AutoSend = settings.AutoSend;
        feed.Category = string.IsNullOrWhiteSpace(settings.Category) ? null : settings.Category.Trim();
        feed.MaxPerDay = settings.MaxPerDay;
        feed.DigestMinuteOfDay = settings.DigestMinuteOfDay;
        feed.DigestWeekdays = settings.DigestWeekdays & DigestSchedule.EveryDay;
        feed.Enabled = settings.Enabled;
        if (feed.Mode != FeedMode.Digest) feed.NextDigestAtUtc = null;
        else if (scheduleChanged) feed.NextDigestAtUtc = DigestSchedule.Next(now, feed.DigestMinuteOfDay, feed.DigestWeekdays);
    }

    private static Dictionary<FeedField, string> Validate(FeedSettings settings)
    {
        var errors = new Dictionary<FeedField, string>();
        var url = settings.Url?.Trim() ?? "";
        if (url.Length is 0 or > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || !FeedUrl.IsWebUrl(uri))
            errors[FeedField.Url] = "Feeds_UrlInvalid";
        if (settings.Category?.Trim().Length > 200) errors[FeedField.Category] = "Feeds_CategoryTooLong";
        if (settings.MaxPerDay is < 1 or > MaxPerDayLimit) errors[FeedField.MaxPerDay] = "Feeds_MaxPerDayInvalid";
        if (settings.Mode == FeedMode.Digest)
        {
            if (settings.DigestMinuteOfDay is < 0 or >= 24 * 60) errors[FeedField.DigestTime] = "Feeds_DigestTimeInvalid";
            if ((settings.DigestWeekdays & DigestSchedule.EveryDay) == 0) errors[FeedField.DigestWeekdays] = "Feeds_DigestWeekdaysMissing";
        }
        return errors;
    }

    private static readonly IReadOnlyDictionary<FeedField, string> Empty = new Dictionary<FeedField, string>();
}

public static class FeedDisplay
{
    /// <summary>Without query or user information (<see cref="FeedUrl.ForLog"/>): they may carry a CMS secret, which the pages and the audit trail never show.</summary>
    public static string UrlForDisplay(this Feed feed) =>
        Uri.TryCreate(feed.Url, UriKind.Absolute, out var uri) ? FeedUrl.ForLog(uri) : "?";
}
