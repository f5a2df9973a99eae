using System.Globalization;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Inviting;

/// <summary>The portal's sending hours in German time, "09:00-20:00"; "00:00-24:00" is the whole day.</summary>
public readonly record struct SendingHours(TimeSpan Start, TimeSpan End)
{
    public static readonly SendingHours AllDay = new(TimeSpan.Zero, TimeSpan.FromHours(24));

    public TimeSpan Length => End - Start;

    public static bool TryParse(string? text, out SendingHours hours)
    {
        hours = default;
        var parts = (text ?? "").Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !TryTime(parts[0], out var start) || !TryTime(parts[1], out var end) || end <= start) return false;
        hours = new SendingHours(start, end);
        return true;
    }

    private static bool TryTime(string text, out TimeSpan time)
    {
        time = default;
        if (text == "24:00")
        {
            time = TimeSpan.FromHours(24);
            return true;
        }
        if (!TimeOnly.TryParseExact(text, ["H:mm", "HH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return false;
        time = t.ToTimeSpan();
        return true;
    }

    public override string ToString() => $"{Format(Start)}–{Format(End)}";

    private static string Format(TimeSpan t) => $"{(int)t.TotalHours:00}:{t.Minutes:00}";
}

/// <summary>
/// How fast invitations may go, as one set of rules the worker obeys and the forecast simulates:
/// <list type="bullet">
/// <item>never more than <see cref="DailyBudget"/> acceptances in any moving 24 hours: Meta's messaging limit, halved while
/// the number's quality is YELLOW (half per moving 24 hours, not per date: a date turning must not release the other half);</item>
/// <item>only within the sending hours, in batches every <see cref="BatchInterval"/>, each at most <see cref="PacedBatchSize"/>
/// (the day's budget over the day's batches), counted from the acceptances since the batch began plus the rows in flight.
/// A queue that arrives late in the day gets one batch per interval like any other, never the morning's batches at once,
/// so replies and STOPs come back before the next batch. The moving 24 hours bound the day: the 25-hour day of October
/// has a batch more, but never more than the budget in any 24 hours;</item>
/// <item>within a batch, at most <see cref="MessagesPerSecond"/>.</item>
/// </list>
/// Without a limit (Meta's unlimited tier) there is no 24-hour cap, but the batches are still paced as if the limit were
/// <see cref="UnlimitedPacingLimit"/>: a large queue is still spread over the hours, not sent in one go.
/// </summary>
public sealed record WhatsAppPacing(int? Limit, bool HalfPace, SendingHours Hours, TimeSpan BatchInterval, double MessagesPerSecond)
{
    /// <summary>Where a simulation gives up: a queue that cannot finish within this reports no end.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(3 * 366);

    public int BatchesPerDay => Math.Max(1, (int)Math.Ceiling(Hours.Length / BatchInterval));

    /// <summary>What may go out in one day: the limit, halved on YELLOW; null without a limit.</summary>
    public int? DailyBudget => Limit is { } limit and >= 0 ? (HalfPace ? Math.Max(1, limit / 2) : limit) : null;

    /// <summary>The limit the batches are sized for on Meta's unlimited tier (its highest finite tier).</summary>
    public const int UnlimitedPacingLimit = 100_000;

    /// <summary>The day's budget over the day's batches; null without a limit (what the WhatsApp page shows).</summary>
    public int? BatchSize => DailyBudget is { } budget ? SizeFor(budget) : null;

    /// <summary>What one batch may send: <see cref="BatchSize"/>, or without a limit as if it were <see cref="UnlimitedPacingLimit"/>.</summary>
    public int PacedBatchSize => BatchSize ?? SizeFor(UnlimitedPacingLimit);

    private int SizeFor(int budget) => (int)Math.Ceiling(budget / (double)BatchesPerDay);

    /// <summary>The sending window that contains <paramref name="utc"/>, or the next one after it.</summary>
    public (DateTime StartUtc, DateTime EndUtc) WindowAtOrAfter(DateTime utc)
    {
        var day = DateOnly.FromDateTime(Berlin.ToLocal(utc));
        for (var i = 0; i < 3; i++, day = day.AddDays(1))
        {
            var (start, end) = WindowOn(day);
            if (utc < end) return (start, end);
        }
        throw new InvalidOperationException("No sending window within three days.");
    }

    private (DateTime StartUtc, DateTime EndUtc) WindowOn(DateOnly day)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue);
        return (LocalToUtc(midnight + Hours.Start), LocalToUtc(midnight + Hours.End));
    }

    private static readonly TimeZoneInfo Zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    // A wall-clock time that the spring change skips (02:30) is taken when the clocks show it again, at 03:00.
    private static DateTime LocalToUtc(DateTime local)
    {
        while (Zone.IsInvalidTime(local)) local = local.AddMinutes(15);
        return Berlin.ToUtc(local);
    }

    /// <summary>
    /// How many more invitations may be reserved now. <paramref name="acceptedLast24h"/>: acceptances in (now − 24 h, now];
    /// <paramref name="acceptedThisBatch"/>: acceptances since <see cref="BatchStart"/>; <paramref name="inFlight"/>:
    /// rows workers hold under a live lease (counted as if sent).
    /// </summary>
    public int Allowance(DateTime nowUtc, int acceptedLast24h, int acceptedThisBatch, int inFlight)
    {
        var (start, _) = WindowAtOrAfter(nowUtc);
        if (nowUtc < start) return 0;
        long rolling = DailyBudget is { } budget ? budget - acceptedLast24h - inFlight : int.MaxValue;
        long paced = PacedBatchSize - acceptedThisBatch - inFlight;
        return (int)Math.Clamp(Math.Min(rolling, paced), 0, int.MaxValue);
    }

    /// <summary>When the batch under way at <paramref name="nowUtc"/> began; outside the hours, when the next window opens.</summary>
    public DateTime BatchStart(DateTime nowUtc)
    {
        var (start, _) = WindowAtOrAfter(nowUtc);
        return nowUtc < start ? start : start + BatchInterval * BatchIndex(start, nowUtc);
    }

    /// <summary>When the next batch may start after <paramref name="nowUtc"/> (for a worker that has spent the current one).</summary>
    public DateTime NextBatchAfter(DateTime nowUtc)
    {
        var (start, end) = WindowAtOrAfter(nowUtc);
        if (nowUtc < start) return start;
        var next = start + BatchInterval * (BatchIndex(start, nowUtc) + 1);
        return next < end ? next : WindowAtOrAfter(end).StartUtc;
    }

    private int BatchIndex(DateTime windowStartUtc, DateTime nowUtc) => (int)((nowUtc - windowStartUtc) / BatchInterval);

    /// <summary>One simulated batch: its first and last send, how many, and how many in all so far.</summary>
    public readonly record struct SimulatedBatch(DateTime FirstUtc, DateTime LastUtc, long Count, long Total);

    /// <summary>
    /// When the <paramref name="queued"/>-th invitation from now would be accepted under these rules, given the
    /// acceptances of the last 24 hours; null when nothing is queued or the queue cannot finish within <see cref="Horizon"/>.
    /// </summary>
    public DateTime? LastSendUtc(DateTime nowUtc, IEnumerable<DateTime> recentAcceptedUtc, long queued)
    {
        var last = Simulate(nowUtc, recentAcceptedUtc, queued).LastOrDefault();
        return queued > 0 && last.Total == queued ? last.LastUtc : null;
    }

    /// <summary>How many of the <paramref name="queued"/> invitations would be accepted by <paramref name="untilUtc"/>.</summary>
    public long SentBy(DateTime nowUtc, IEnumerable<DateTime> recentAcceptedUtc, long queued, DateTime untilUtc)
    {
        long total = 0;
        var perSecond = TimeSpan.FromSeconds(1 / MessagesPerSecond);
        foreach (var batch in Simulate(nowUtc, recentAcceptedUtc, queued))
        {
            if (batch.FirstUtc > untilUtc) break;
            total = batch.LastUtc <= untilUtc ? batch.Total : batch.Total - batch.Count + (long)((untilUtc - batch.FirstUtc) / perSecond) + 1;
        }
        return total;
    }

    /// <summary>
    /// The schedule of <paramref name="queued"/> invitations from now, batch by batch, given the acceptances of the last 24
    /// hours (<paramref name="recentAcceptedUtc"/>, any order). Sends of a batch are spread at <see cref="MessagesPerSecond"/>;
    /// each leaves the 24-hour window 24 hours after the batch's last send (the careful side). Ends when all are sent or at
    /// <see cref="Horizon"/>.
    /// </summary>
    public IEnumerable<SimulatedBatch> Simulate(DateTime nowUtc, IEnumerable<DateTime> recentAcceptedUtc, long queued)
    {
        if (queued <= 0) yield break;
        var day = TimeSpan.FromHours(24);
        var recent = recentAcceptedUtc.Where(t => t > nowUtc - day && t <= nowUtc).Order().ToList();
        // The 24-hour window as (time, count) groups, oldest first.
        var window = new Queue<(DateTime At, long Count)>(recent.Select(t => (t, 1L)));
        long inWindow = recent.Count;
        long total = 0;
        var t = nowUtc;
        var perSecond = TimeSpan.FromSeconds(1 / MessagesPerSecond);
        var (start, end) = WindowAtOrAfter(t);
        // The batch under way now may already have sent some; every later batch starts from nothing.
        var countedBatch = BatchStart(t);
        long sentThisBatch = recent.Count(r => r >= countedBatch);
        while (t < nowUtc + Horizon)
        {
            if (t >= end) (start, end) = WindowAtOrAfter(t);
            if (t < start) t = start;
            var batchStart = start + BatchInterval * BatchIndex(start, t);
            var batchEnd = batchStart + BatchInterval;
            if (batchEnd > end) batchEnd = end;
            if (batchStart != countedBatch)
            {
                countedBatch = batchStart;
                sentThisBatch = 0;
            }
            var target = PacedBatchSize - sentThisBatch;
            while (target > 0 && t < batchEnd)
            {
                while (window.Count > 0 && window.Peek().At <= t - day) inWindow -= window.Dequeue().Count;
                var room = DailyBudget is { } budget ? budget - inWindow : long.MaxValue;
                if (room <= 0)
                {
                    if (window.Count == 0) yield break;
                    // Wait until the oldest acceptance leaves the window.
                    t = window.Peek().At + day + TimeSpan.FromTicks(1);
                    continue;
                }
                var fits = Math.Max(1, (long)Math.Ceiling((batchEnd - t) / perSecond));
                var n = Math.Min(Math.Min(target, queued - total), Math.Min(room, fits));
                var last = t + perSecond * (n - 1);
                window.Enqueue((last, n));
                inWindow += n;
                sentThisBatch += n;
                target -= n;
                total += n;
                yield return new SimulatedBatch(t, last, n, total);
                if (total == queued) yield break;
                t = last + perSecond;
            }
            if (t < batchEnd) t = batchEnd;
        }
    }
}
