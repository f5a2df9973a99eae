namespace NewsletterMigrator.Feeds;

/// <summary>
/// How long to wait before the next attempt at a feed: the poll interval while it works, doubling with each
/// consecutive failure, never longer than the cap. With the defaults (5 min, 6 h): 10, 20, 40, 80, 160, 320 min,
/// then 6 h; a CMS that is down for a night is asked about a dozen times, not 100.
/// </summary>
public static class FeedBackOff
{
    public static TimeSpan After(int consecutiveFailures, TimeSpan pollInterval, TimeSpan max)
    {
        if (consecutiveFailures <= 0) return pollInterval;
        // A cap below the interval would make a failing feed polled more often than a working one.
        var cap = max < pollInterval ? pollInterval : max;
        // 2^31 ticks overflow long past 2^63 quickly; anything beyond 40 doublings is the cap anyway.
        if (consecutiveFailures >= 40) return cap;
        var ticks = pollInterval.Ticks * Math.Pow(2, consecutiveFailures);
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }
}
