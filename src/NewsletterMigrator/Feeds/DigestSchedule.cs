using NewsletterMigrator.Common;

namespace NewsletterMigrator.Feeds;

/// <summary>When a digest is due: a Berlin wall-clock time on chosen weekdays, in UTC.</summary>
public static class DigestSchedule
{
    public const int EveryDay = 0b1111111;
    public const int MondayToFriday = 0b0111110;
    public const int DefaultMinuteOfDay = 18 * 60;

    public static int Bit(DayOfWeek day) => 1 << (int)day;

    public static bool Includes(int weekdays, DayOfWeek day) => (weekdays & Bit(day)) != 0;

    /// <summary>
    /// The first slot strictly after <paramref name="afterUtc"/>, or null when no weekday is chosen. A time that does not
    /// exist on the day the clocks go forward (02:30 on the last Sunday of March) is taken an hour later, as a person
    /// would; one that exists twice in October is its first occurrence.
    /// </summary>
    public static DateTime? Next(DateTime afterUtc, int minuteOfDay, int weekdays)
    {
        if ((weekdays & EveryDay) == 0) return null;
        var day = DateOnly.FromDateTime(Berlin.ToLocal(afterUtc));
        for (var i = 0; i < 9; i++, day = day.AddDays(1))
        {
            if (!Includes(weekdays, day.DayOfWeek)) continue;
            var slot = SlotUtc(day, minuteOfDay);
            if (slot > afterUtc) return slot;
        }
        return null; // unreachable: some chosen weekday falls within the next eight days
    }

    private static DateTime SlotUtc(DateOnly day, int minuteOfDay)
    {
        var local = day.ToDateTime(TimeOnly.MinValue).AddMinutes(minuteOfDay);
        return Berlin.IsInvalid(local) ? Berlin.ToUtc(local.AddHours(1)) : Berlin.ToUtc(local);
    }

    /// <summary>The weekdays as the command line and the API name them, indexed by <see cref="DayOfWeek"/>.</summary>
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>"mon", "wed" … as weekday bits; null when a name is none of the seven.</summary>
    public static int? ParseDays(IEnumerable<string> names)
    {
        var weekdays = 0;
        foreach (var name in names)
        {
            var index = Array.IndexOf(DayNames, name.Trim().ToLowerInvariant());
            if (index < 0) return null;
            weekdays |= Bit((DayOfWeek)index);
        }
        return weekdays;
    }

    /// <summary>The chosen weekdays' names, Monday first, as a German week reads.</summary>
    public static string[] DayNamesOf(int weekdays) =>
        Enumerable.Range(1, 7).Select(i => (DayOfWeek)(i % 7)).Where(d => Includes(weekdays, d)).Select(d => DayNames[(int)d]).ToArray();

    public static string FormatTime(int minuteOfDay) => $"{minuteOfDay / 60:00}:{minuteOfDay % 60:00}";

    /// <summary>"HH:mm" (as a time input sends it) in minutes after midnight, or null.</summary>
    public static int? ParseTime(string? text) =>
        TimeOnly.TryParseExact(text?.Trim(), ["HH:mm", "H:mm"], System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out var time) ? time.Hour * 60 + time.Minute : null;
}
