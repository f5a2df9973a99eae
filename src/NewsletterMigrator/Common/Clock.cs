namespace NewsletterMigrator.Common;

public static class Berlin
{
    private static readonly TimeZoneInfo Zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    public static DateTime ToLocal(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), Zone);

    public static string Format(DateTime? utc) => utc is null ? "" : ToLocal(utc.Value).ToString("dd.MM.yyyy HH:mm");

    /// <summary>A Berlin wall-clock time (as a datetime-local input sends it) in UTC.</summary>
    public static DateTime ToUtc(DateTime local) =>
        TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), Zone);

    /// <summary>True for a wall-clock time the clocks skip when summer time begins.</summary>
    public static bool IsInvalid(DateTime local) => Zone.IsInvalidTime(DateTime.SpecifyKind(local, DateTimeKind.Unspecified));

    /// <summary>A Berlin calendar date means the end of that day.</summary>
    public static DateTime EndOfDayUtc(DateOnly date) =>
        TimeZoneInfo.ConvertTimeToUtc(date.ToDateTime(new TimeOnly(23, 59, 59)), Zone);
}
