using System.Globalization;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// Lenient date reading. Syndication's own RSS parser throws on any date that is not strict RFC 822 (measured:
/// "Tue, 03 Mar 2026 14:05:00 CEST" and German day/month names fail the whole document), and CMS templates
/// get this wrong often. A date we cannot read becomes "unknown" instead of losing every item of the feed.
/// </summary>
public static partial class FeedDates
{
    public static DateTime? ToUtc(DateTimeOffset value) =>
        value == default || value == DateTimeOffset.MinValue ? null : value.UtcDateTime;

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var m = Rfc822().Match(text);
        if (m.Success && TryRfc822(m, out value)) return true;
        const DateTimeStyles styles = DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, styles, out value)
            || DateTimeOffset.TryParse(text, CultureInfo.GetCultureInfo("de-DE"), styles, out value);
    }

    private static bool TryRfc822(Match m, out DateTimeOffset value)
    {
        value = default;
        if (!Months.TryGetValue(m.Groups["month"].Value[..3], out var month)) return false;
        var year = int.Parse(m.Groups["year"].Value, CultureInfo.InvariantCulture);
        if (year < 100) year += year < 70 ? 2000 : 1900;
        var day = int.Parse(m.Groups["day"].Value, CultureInfo.InvariantCulture);
        var hour = int.Parse(m.Groups["hour"].Value, CultureInfo.InvariantCulture);
        var minute = int.Parse(m.Groups["minute"].Value, CultureInfo.InvariantCulture);
        var second = m.Groups["second"].Success ? int.Parse(m.Groups["second"].Value, CultureInfo.InvariantCulture) : 0;
        var offset = Offset(m.Groups["zone"].Value);
        if (day > DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month) || hour > 23 || minute > 59 || second > 60) return false;
        try
        {
            value = new DateTimeOffset(year, month, day, hour, minute, Math.Min(second, 59), offset);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static TimeSpan Offset(string zone)
    {
        zone = zone.Trim();
        if (zone.Length == 0) return TimeSpan.Zero;
        var numeric = NumericZone().Match(zone);
        if (numeric.Success)
        {
            var span = new TimeSpan(int.Parse(numeric.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(numeric.Groups[3].Value, CultureInfo.InvariantCulture), 0);
            return numeric.Groups[1].Value == "-" ? -span : span;
        }
        // Unknown names count as UTC: off by a few hours at worst, which only shifts an item within a digest.
        return Zones.TryGetValue(zone, out var hours) ? TimeSpan.FromHours(hours) : TimeSpan.Zero;
    }

    private static readonly Dictionary<string, int> Months = new(StringComparer.OrdinalIgnoreCase)
    {
        ["jan"] = 1, ["feb"] = 2, ["mar"] = 3, ["mär"] = 3, ["mrz"] = 3, ["apr"] = 4, ["may"] = 5, ["mai"] = 5,
        ["jun"] = 6, ["jul"] = 7, ["aug"] = 8, ["sep"] = 9, ["oct"] = 10, ["okt"] = 10, ["nov"] = 11, ["dec"] = 12, ["dez"] = 12,
    };

    private static readonly Dictionary<string, int> Zones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GMT"] = 0, ["UT"] = 0, ["UTC"] = 0, ["Z"] = 0, ["WET"] = 0, ["WEST"] = 1, ["CET"] = 1, ["MEZ"] = 1, ["CEST"] = 2, ["MESZ"] = 2,
        ["EST"] = -5, ["EDT"] = -4, ["CST"] = -6, ["CDT"] = -5, ["MST"] = -7, ["MDT"] = -6, ["PST"] = -8, ["PDT"] = -7,
    };

    // "Tue, 03 Mar 2026 14:05:00 +0100", also without the weekday or seconds, with German names ("Di, 03 Mär 2026") and named zones.
    [GeneratedRegex(@"^(?:\p{L}{2,9}\.?,?\s*)?(?<day>\d{1,2})\.?\s+(?<month>\p{L}{3})\p{L}*\.?\s+(?<year>\d{2,4})\s+(?<hour>\d{1,2}):(?<minute>\d{2})(?::(?<second>\d{2}))?\s*(?<zone>[A-Za-z]{1,5}|[+-]\d{2}:?\d{2})?\s*$")]
    private static partial Regex Rfc822();

    [GeneratedRegex(@"^([+-])(\d{2}):?(\d{2})$")]
    private static partial Regex NumericZone();
}
