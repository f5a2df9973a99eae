using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Tests;

/// <summary>A failing feed is asked less and less often, doubling per failure, never less often than the cap.</summary>
public sealed class FeedBackOffTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Cap = TimeSpan.FromHours(6);

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(4, 80)]
    [InlineData(5, 160)]
    [InlineData(6, 320)]
    [InlineData(7, 360)]
    [InlineData(50, 360)]
    [InlineData(int.MaxValue, 360)]
    public void The_wait_doubles_with_each_consecutive_failure_up_to_the_cap(int failures, int minutes)
    {
        Assert.Equal(TimeSpan.FromMinutes(minutes), FeedBackOff.After(failures, Interval, Cap));
    }

    [Fact]
    public void A_negative_failure_count_waits_the_normal_interval()
    {
        Assert.Equal(Interval, FeedBackOff.After(-1, Interval, Cap));
    }

    [Fact]
    public void A_cap_below_the_interval_never_makes_a_failing_feed_polled_more_often_than_a_working_one()
    {
        Assert.Equal(Interval, FeedBackOff.After(3, Interval, TimeSpan.FromMinutes(1)));
    }
}
