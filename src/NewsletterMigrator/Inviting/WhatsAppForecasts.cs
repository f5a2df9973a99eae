using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

/// <summary>When the queue would finish at another limit: one row of "what a higher limit would change".</summary>
public sealed record LimitAlternative(int Limit, DateTime? LastSendUtc);

/// <summary>
/// What the WhatsApp page shows about the budget: the limit in force and its source, the quality rating, the pause,
/// what went out in the last 24 hours, the queue, and when its last invitation (and this newsletter's) would go out
/// under the same rules the worker obeys.
/// </summary>
public sealed record WhatsAppForecast(
    WhatsAppAccount Account,
    EffectiveLimit Limit,
    WhatsAppPacing Pacing,
    int SentLast24h,
    long Queued,
    long QueuedForNewsletter,
    DateTime? LastSendUtc,
    DateTime? NewsletterLastSendUtc,
    DateTime? MigrationEndsAtUtc,
    long LeftAtMigrationEnd,
    IReadOnlyList<LimitAlternative> HigherLimits)
{
    /// <summary>This newsletter's queue cannot finish before its migration ends.</summary>
    public bool FinishesTooLate => LeftAtMigrationEnd > 0;
}

/// <summary>
/// One of Meta's error codes among a newsletter's messages (null: an answer without one): how many failed for good and how
/// many wait for another try (the page says what the code means: WhatsAppStateText.ErrorMeaning).
/// </summary>
public sealed record WhatsAppErrorCount(int? Code, int Failed, int Waiting);

public sealed class WhatsAppForecasts(AppDbContext db, WhatsAppAccounts accounts, TimeProvider clock)
{
    private static readonly WhatsAppStatus[] Waiting = [WhatsAppStatus.Queued, WhatsAppStatus.Leased];

    public async Task<WhatsAppForecast> ForAsync(Newsletter newsletter, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var account = await accounts.GetAsync(ct);
        var limit = accounts.Limit(account);
        var pacing = accounts.Pacing(account);
        var dayAgo = now - TimeSpan.FromHours(24);
        var recent = await db.WhatsAppMessages.Where(m => m.AcceptedAtUtc > dayAgo).Select(m => m.AcceptedAtUtc!.Value).ToListAsync(ct);
        var waiting = db.WhatsAppMessages.Where(m => Waiting.Contains(m.Status));
        var queued = await waiting.LongCountAsync(ct);
        var mine = waiting.Where(m => m.NewsletterId == newsletter.Id);
        var queuedForNewsletter = await mine.LongCountAsync(ct);
        // The queue goes in id order across all newsletters: this newsletter is done when its last row is.
        var position = queuedForNewsletter == 0 ? 0 : await waiting.LongCountAsync(m => m.Id <= mine.Max(x => x.Id), ct);
        var lastSend = pacing.LastSendUtc(now, recent, queued);
        var newsletterLastSend = pacing.LastSendUtc(now, recent, position);
        var end = newsletter.MigrationEndsAtUtc;
        var left = end is { } e && position > 0 && !(newsletterLastSend <= e)
            ? queuedForNewsletter - Math.Max(0, pacing.SentBy(now, recent, position, e) - (position - queuedForNewsletter))
            : 0;
        var higher = limit.Value is { } current
            ? WhatsAppAccounts.Tiers.Where(t => t > current).Take(2)
                .Select(t => new LimitAlternative(t, accounts.PacingWith(account, t).LastSendUtc(now, recent, position))).ToList()
            : [];
        return new WhatsAppForecast(account, limit, pacing, recent.Count, queued, queuedForNewsletter, lastSend, newsletterLastSend, end,
            Math.Min(left, queuedForNewsletter), higher);
    }

    /// <summary>The refusals of this newsletter's messages by code, the most frequent first.</summary>
    public async Task<IReadOnlyList<WhatsAppErrorCount>> ErrorCountsAsync(int newsletterId, CancellationToken ct = default)
    {
        var groups = await db.WhatsAppMessages
            .Where(m => m.NewsletterId == newsletterId
                        && (m.Status == WhatsAppStatus.Failed || (Waiting.Contains(m.Status) && m.LastErrorCode != null)))
            .GroupBy(m => new { m.LastErrorCode, Failed = m.Status == WhatsAppStatus.Failed })
            .Select(g => new { g.Key.LastErrorCode, g.Key.Failed, Count = g.Count() })
            .ToListAsync(ct);
        return [.. groups.GroupBy(g => g.LastErrorCode)
            .Select(g => new WhatsAppErrorCount(g.Key,
                g.Where(x => x.Failed).Sum(x => x.Count), g.Where(x => !x.Failed).Sum(x => x.Count)))
            .OrderByDescending(c => c.Failed + c.Waiting).ThenBy(c => c.Code)];
    }
}
