using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Feeds;

/// <summary><c>add-feed</c>: a container or a deployment script sets up a newsletter's feed without the admin pages.</summary>
public static class FeedVerbs
{
    public const string Usage =
        "add-feed --newsletter <slug> --url <url> --mode breaking|digest [--auto-send] [--category <tag>] [--at HH:mm] " +
        "[--days mon,tue,wed,thu,fri,sat,sun] [--max-per-day <n>]";

    public static async Task<int> AddAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        var slug = CommandLine.Option(args, "--newsletter");
        var url = CommandLine.Option(args, "--url");
        var modeText = CommandLine.Option(args, "--mode");
        if (slug is null || url is null || modeText is null) return Fail(errors, "Usage: " + Usage);
        FeedMode mode;
        if (modeText.Equals("breaking", StringComparison.OrdinalIgnoreCase)) mode = FeedMode.Breaking;
        else if (modeText.Equals("digest", StringComparison.OrdinalIgnoreCase)) mode = FeedMode.Digest;
        else return Fail(errors, $"--mode must be 'breaking' or 'digest', not '{modeText}'.");

        var minute = DigestSchedule.DefaultMinuteOfDay;
        if (CommandLine.Option(args, "--at") is { } at)
        {
            if (DigestSchedule.ParseTime(at) is not { } parsed) return Fail(errors, $"--at must be a time such as 18:00, not '{at}'.");
            minute = parsed;
        }
        var weekdays = DigestSchedule.MondayToFriday;
        if (CommandLine.Option(args, "--days") is { } days)
        {
            if (DigestSchedule.ParseDays(days.Split(',', StringSplitOptions.RemoveEmptyEntries)) is not { } parsed)
                return Fail(errors, $"--days takes mon,tue,wed,thu,fri,sat,sun, not '{days}'.");
            weekdays = parsed;
        }
        var maxPerDay = 5;
        if (CommandLine.Option(args, "--max-per-day") is { } max && !int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out maxPerDay))
            return Fail(errors, $"--max-per-day must be a number, not '{max}'.");

        var db = services.GetRequiredService<AppDbContext>();
        var newsletterId = await db.Newsletters.Where(n => n.Slug == slug).Select(n => (int?)n.Id).SingleOrDefaultAsync();
        if (newsletterId is null) return Fail(errors, $"No newsletter with the slug '{slug}'.");
        var settings = new FeedSettings(url, mode, args.Contains("--auto-send"), CommandLine.Option(args, "--category"), maxPerDay, minute, weekdays);
        var result = await services.GetRequiredService<FeedService>().AddAsync(newsletterId.Value, settings, "command line");
        if (!result.Saved)
        {
            // The admin page's messages, in English, one per refused option.
            using var english = new CultureScope("en");
            var text = services.GetRequiredService<IStringLocalizer<SharedResource>>();
            foreach (var (field, key) in result.Errors) errors.WriteLine($"{OptionOf(field)}: {text[key]}");
            return 1;
        }
        output.WriteLine($"Feed {result.FeedId} added to '{slug}' ({(mode == FeedMode.Breaking ? "breaking news" : $"digest at {DigestSchedule.FormatTime(minute)} Berlin time")}, " +
                         $"{(settings.AutoSend ? "sent automatically" : "drafts wait for approval")}). It is polled at once; what it holds now is never sent.");
        return 0;
    }

    private static string OptionOf(FeedField field) => field switch
    {
        FeedField.Url => "--url",
        FeedField.Category => "--category",
        FeedField.MaxPerDay => "--max-per-day",
        FeedField.DigestTime => "--at",
        _ => "--days",
    };

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 1;
    }
}
