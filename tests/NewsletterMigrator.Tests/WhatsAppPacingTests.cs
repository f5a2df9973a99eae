using NewsletterMigrator.Common;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Tests;

/// <summary>The pacing rules on their own (issue 14, points 1 and 4): sending windows in Berlin time, the allowance, the simulation.</summary>
public sealed class WhatsAppPacingTests
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private static readonly SendingHours NineToEight = Hours("09:00-20:00");

    private static SendingHours Hours(string text) => SendingHours.TryParse(text, out var hours) ? hours : throw new ArgumentException(text);

    private static DateTime Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, DateTimeKind.Utc);

    private static DateTime Local(int year, int month, int day, int hour, int minute = 0) => Berlin.ToUtc(new DateTime(year, month, day, hour, minute, 0));

    [Theory]
    // The Sunday before the spring change, the change (last Sunday of March 2026: 29th), and after it.
    [InlineData(2026, 3, 28, 8, 19)]
    [InlineData(2026, 3, 29, 7, 18)]
    [InlineData(2026, 3, 30, 7, 18)]
    // The autumn change (last Sunday of October 2026: 25th).
    [InlineData(2026, 10, 24, 7, 18)]
    [InlineData(2026, 10, 25, 8, 19)]
    public void The_window_is_09_to_20_Berlin_time_on_both_sides_of_a_clock_change(int year, int month, int day, int startUtc, int endUtc)
    {
        var pacing = new WhatsAppPacing(1_000, false, NineToEight, TimeSpan.FromHours(1), 10);
        var (start, end) = pacing.WindowAtOrAfter(Utc(year, month, day, 3));
        Assert.Equal(Utc(year, month, day, startUtc), start);
        Assert.Equal(Utc(year, month, day, endUtc), end);
    }

    [Fact]
    public void A_whole_day_window_is_23_hours_in_March_and_25_in_October()
    {
        var pacing = new WhatsAppPacing(2_400, false, SendingHours.AllDay, TimeSpan.FromHours(1), 10);
        var (springStart, springEnd) = pacing.WindowAtOrAfter(Local(2026, 3, 29, 12));
        Assert.Equal(TimeSpan.FromHours(23), springEnd - springStart);
        var (autumnStart, autumnEnd) = pacing.WindowAtOrAfter(Local(2026, 10, 25, 12));
        Assert.Equal(TimeSpan.FromHours(25), autumnEnd - autumnStart);
        Assert.Equal(Utc(2026, 10, 24, 22), autumnStart);
    }

    [Fact]
    public void The_25_hour_day_has_a_batch_more_but_never_more_than_the_budget_in_any_moving_24_hours()
    {
        // 24 batches of 100; 25 October has 25 hourly batches, and the 25th only has what left the window.
        var pacing = new WhatsAppPacing(2_400, false, SendingHours.AllDay, TimeSpan.FromHours(1), 10);
        var lastHour = Local(2026, 10, 25, 23, 30);
        Assert.Equal(0, pacing.Allowance(lastHour, acceptedLast24h: 2_400, acceptedThisBatch: 0, inFlight: 0));
        var batches = pacing.Simulate(Local(2026, 10, 24, 0), [], 10_000).ToList();
        Assert.Equal(2_400, MostInAnyDay(batches));
        Assert.All(batches, b => Assert.True(b.Count <= 100, $"{b.Count} in one batch at {Berlin.Format(b.FirstUtc)}"));
    }

    [Fact]
    public void The_allowance_is_what_is_left_of_the_batch_within_the_limit_of_the_moving_24_hours()
    {
        // 1,100 a day over 11 hourly batches: 100 each.
        var pacing = new WhatsAppPacing(1_100, false, NineToEight, TimeSpan.FromHours(1), 10);
        Assert.Equal(100, pacing.BatchSize);
        Assert.Equal(0, pacing.Allowance(Local(2026, 6, 10, 8, 59), 0, 0, 0));
        Assert.Equal(100, pacing.Allowance(Local(2026, 6, 10, 9, 0), 0, 0, 0));
        Assert.Equal(30, pacing.Allowance(Local(2026, 6, 10, 9, 30), 70, 70, 0));
        // Batch 2 (11:00–12:00) after two batches that sent nothing: still one batch, not three; rows in flight count as sent.
        Assert.Equal(100, pacing.Allowance(Local(2026, 6, 10, 11, 15), 0, 0, 0));
        Assert.Equal(50, pacing.Allowance(Local(2026, 6, 10, 11, 15), 0, 0, 50));
        // Yesterday's late sends still in the moving 24 hours: the limit, not the batch, is the bound.
        Assert.Equal(20, pacing.Allowance(Local(2026, 6, 10, 11, 15), 1_080, 0, 0));
        Assert.Equal(0, pacing.Allowance(Local(2026, 6, 10, 20, 0), 0, 0, 0));
        Assert.Equal(0, pacing.Allowance(Local(2026, 6, 10, 21, 0), 0, 0, 0));
        Assert.Equal(Local(2026, 6, 10, 11), pacing.BatchStart(Local(2026, 6, 10, 11, 15)));
        Assert.Equal(Local(2026, 6, 11, 9), pacing.BatchStart(Local(2026, 6, 10, 21, 0)));
    }

    [Fact]
    public void A_queue_that_arrives_late_in_the_day_gets_one_batch_per_interval_not_the_mornings_batches_at_once()
    {
        // 10,000 a day over 09:00-20:00 in quarter-hour batches: 44 batches of 228. Queued at 16:00, nothing sent today.
        var pacing = new WhatsAppPacing(10_000, false, NineToEight, TimeSpan.FromMinutes(15), 10);
        Assert.Equal(228, pacing.BatchSize);
        var four = Local(2026, 6, 10, 16);
        Assert.Equal(228, pacing.Allowance(four, 0, 0, 0));
        Assert.Equal(28, pacing.Allowance(four + TimeSpan.FromMinutes(10), 200, 200, 0));
        Assert.Equal(0, pacing.Allowance(four + TimeSpan.FromMinutes(10), 200, 200, 28));
        Assert.Equal(228, pacing.Allowance(four + TimeSpan.FromMinutes(15), 228, 0, 0));
        Assert.Equal(228, pacing.SentBy(four, [], 100_000, four + TimeSpan.FromMinutes(14)));
        Assert.Equal(2 * 228, pacing.SentBy(four, [], 100_000, four + TimeSpan.FromMinutes(29)));
        // The batch under way counts what it already sent.
        var earlier = Enumerable.Range(0, 100).Select(i => four + TimeSpan.FromSeconds(i)).ToList();
        Assert.Equal(128, pacing.SentBy(four + TimeSpan.FromMinutes(5), earlier, 100_000, four + TimeSpan.FromMinutes(14)));
    }

    [Fact]
    public void YELLOW_halves_the_day_and_the_moving_24_hours()
    {
        var pacing = new WhatsAppPacing(1_000, true, SendingHours.AllDay, Day, 10);
        Assert.Equal(500, pacing.DailyBudget);
        Assert.Equal(500, pacing.Allowance(Local(2026, 6, 10, 0, 30), 0, 0, 0));
        // Just after midnight, with 500 sent the evening before: the new date releases nothing.
        Assert.Equal(0, pacing.Allowance(Local(2026, 6, 10, 0, 30), 500, 0, 0));
    }

    [Fact]
    public void Without_a_limit_there_is_no_24_hour_cap_but_the_batches_are_sized_as_for_100000_a_day()
    {
        var pacing = new WhatsAppPacing(null, false, NineToEight, TimeSpan.FromHours(1), 1_000);
        Assert.Null(pacing.BatchSize);
        Assert.Equal(9_091, pacing.PacedBatchSize);
        Assert.Equal(9_091, pacing.Allowance(Local(2026, 6, 10, 12), 5_000_000, 0, 0));
        Assert.Equal(91, pacing.Allowance(Local(2026, 6, 10, 12), 5_000_000, 9_000, 0));
        Assert.Equal(0, pacing.Allowance(Local(2026, 6, 10, 21), 0, 0, 0));
        // A million queued: spread over the batches, 100,001 a day (11 × 9,091), done on the tenth day.
        var batches = pacing.Simulate(Local(2026, 6, 10, 9), [], 1_000_000).ToList();
        Assert.All(batches, b => Assert.True(b.Count <= 9_091));
        Assert.Equal(1_000_000, batches[^1].Total);
        Assert.Equal(new DateOnly(2026, 6, 19), DateOnly.FromDateTime(Berlin.ToLocal(batches[^1].LastUtc)));
    }

    [Fact]
    public void The_next_batch_comes_at_the_next_interval_or_at_the_next_mornings_start()
    {
        var pacing = new WhatsAppPacing(1_100, false, NineToEight, TimeSpan.FromHours(1), 10);
        Assert.Equal(Local(2026, 6, 10, 9), pacing.NextBatchAfter(Local(2026, 6, 10, 6)));
        Assert.Equal(Local(2026, 6, 10, 10), pacing.NextBatchAfter(Local(2026, 6, 10, 9, 30)));
        Assert.Equal(Local(2026, 6, 11, 9), pacing.NextBatchAfter(Local(2026, 6, 10, 19, 30)));
        Assert.Equal(Local(2026, 6, 11, 9), pacing.NextBatchAfter(Local(2026, 6, 10, 21)));
        // Saturday evening before the spring change to Sunday morning in summer time.
        Assert.Equal(Utc(2026, 3, 29, 7), pacing.NextBatchAfter(Local(2026, 3, 28, 19, 30)));
    }

    [Fact]
    public void Three_thousand_at_1000_a_day_all_day_finish_on_day_three()
    {
        var pacing = new WhatsAppPacing(1_000, false, SendingHours.AllDay, Day, 1_000);
        var now = Local(2026, 6, 10, 10);
        var last = pacing.LastSendUtc(now, [], 3_000);
        Assert.NotNull(last);
        Assert.InRange(last.Value, now + 2 * Day, now + 3 * Day);
        Assert.Equal(1_000, pacing.SentBy(now, [], 3_000, now + Day - TimeSpan.FromMinutes(1)));
        Assert.Equal(2_000, pacing.SentBy(now, [], 3_000, now + 2 * Day - TimeSpan.FromMinutes(1)));
        Assert.Equal(3_000, pacing.SentBy(now, [], 3_000, last.Value));
        Assert.Equal(1_000, MostInAnyDay(pacing.Simulate(now, [], 3_000)));
    }

    [Fact]
    public void The_simulation_counts_the_last_24_hours_and_keeps_to_the_hours_and_batches()
    {
        var pacing = new WhatsAppPacing(1_100, false, NineToEight, TimeSpan.FromHours(1), 10);
        var now = Local(2026, 6, 10, 9);
        // 600 went yesterday between 18:00 and 19:00: today has 500 until they leave the window.
        var yesterday = Enumerable.Range(0, 600).Select(i => Local(2026, 6, 9, 18) + TimeSpan.FromSeconds(i * 6)).ToList();
        var batches = pacing.Simulate(now, yesterday, 5_000).ToList();
        Assert.All(batches, b => Assert.InRange(Berlin.ToLocal(b.FirstUtc).TimeOfDay, TimeSpan.FromHours(9), TimeSpan.FromHours(20)));
        Assert.All(batches, b => Assert.True(Berlin.ToLocal(b.LastUtc).TimeOfDay < TimeSpan.FromHours(20)));
        Assert.Equal(500, pacing.SentBy(now, yesterday, 5_000, Local(2026, 6, 10, 17, 59)));
        Assert.True(MostInAnyDay(batches, yesterday) <= 1_100);
        // No hourly batch beyond 100, however long the queue waited.
        foreach (var hour in batches.GroupBy(b => Berlin.ToLocal(b.FirstUtc) is var l ? l.Date.AddHours(l.Hour) : default))
            Assert.True(hour.Sum(b => b.Count) <= 100, $"{hour.Sum(b => b.Count)} in the batch of {hour.Key:g}");
        Assert.Equal(5_000, batches[^1].Total);
    }

    [Fact]
    public void A_queue_that_cannot_finish_within_the_horizon_has_no_end()
    {
        var pacing = new WhatsAppPacing(250, false, NineToEight, TimeSpan.FromHours(1), 10);
        Assert.Null(pacing.LastSendUtc(Local(2026, 6, 10, 9), [], 1_000_000));
        Assert.Null(pacing.LastSendUtc(Local(2026, 6, 10, 9), [], 0));
    }

    /// <summary>The most sends in any moving 24 hours of a simulated schedule (each batch's sends spread evenly from first to last).</summary>
    private static long MostInAnyDay(IEnumerable<WhatsAppPacing.SimulatedBatch> batches, IEnumerable<DateTime>? before = null)
    {
        var times = new List<DateTime>(before ?? []);
        foreach (var b in batches)
        {
            var step = b.Count > 1 ? (b.LastUtc - b.FirstUtc) / (b.Count - 1) : TimeSpan.Zero;
            for (var i = 0; i < b.Count; i++) times.Add(b.FirstUtc + step * i);
        }
        return WhatsAppHost.MostInAnyDay(times);
    }
}
