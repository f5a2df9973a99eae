using NewsletterMigrator.Common;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Tests.Feeds;

public sealed class DigestScheduleTests
{
    private static DateTime BerlinTime(int year, int month, int day, int hour, int minute) => Berlin.ToUtc(new DateTime(year, month, day, hour, minute, 0));

    [Fact]
    public void The_next_digest_is_the_set_Berlin_time_on_the_next_chosen_weekday()
    {
        // Friday 2026-12-04 19:00: Monday to Friday at 18:00 means Monday 2026-12-07 18:00 Berlin (17:00 UTC in winter).
        Assert.Equal(new DateTime(2026, 12, 7, 17, 0, 0), DigestSchedule.Next(BerlinTime(2026, 12, 4, 19, 0), 18 * 60, DigestSchedule.MondayToFriday));
        // Before today's time on a chosen day: today.
        Assert.Equal(new DateTime(2026, 12, 4, 17, 0, 0), DigestSchedule.Next(BerlinTime(2026, 12, 4, 9, 0), 18 * 60, DigestSchedule.MondayToFriday));
        // Exactly at the slot: the next one, not the same again.
        Assert.Equal(new DateTime(2026, 12, 5, 17, 0, 0), DigestSchedule.Next(BerlinTime(2026, 12, 4, 18, 0), 18 * 60, DigestSchedule.EveryDay));
        // Summer time: 18:00 Berlin is 16:00 UTC.
        Assert.Equal(new DateTime(2027, 6, 7, 16, 0, 0), DigestSchedule.Next(BerlinTime(2027, 6, 7, 8, 0), 18 * 60, DigestSchedule.Bit(DayOfWeek.Monday)));
        Assert.Null(DigestSchedule.Next(DateTime.UtcNow, 18 * 60, 0));
    }

    [Fact]
    public void A_time_the_clocks_skip_is_taken_an_hour_later()
    {
        // 2027-03-28 is the last Sunday of March: 02:30 does not exist in Berlin; 03:30 CEST is 01:30 UTC.
        Assert.Equal(new DateTime(2027, 3, 28, 1, 30, 0), DigestSchedule.Next(new DateTime(2027, 3, 27, 12, 0, 0), 2 * 60 + 30, DigestSchedule.Bit(DayOfWeek.Sunday)));
    }

    [Theory]
    [InlineData("18:00", 1080)]
    [InlineData("7:05", 425)]
    [InlineData("24:00", null)]
    [InlineData("18 Uhr", null)]
    [InlineData("", null)]
    public void A_time_is_read_as_a_time_input_sends_it(string text, int? minutes) => Assert.Equal(minutes, DigestSchedule.ParseTime(text));
}
