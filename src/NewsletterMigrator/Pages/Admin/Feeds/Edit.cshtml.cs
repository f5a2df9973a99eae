using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Pages.Admin.Feeds;

/// <summary>Adds, changes or removes one feed; the rules (and their messages) are <see cref="FeedService"/>'s.</summary>
public sealed class EditModel(AppDbContext db, FeedService feeds, IStringLocalizer<SharedResource> text) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [FromRoute] public int? FeedId { get; set; }
    [BindProperty] public FeedInput Input { get; set; } = new();

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await db.Newsletters.AnyAsync(n => n.Id == NewsletterId)) return NotFound();
        if (FeedId is { } id)
        {
            if (await feeds.FindAsync(NewsletterId, id) is not { } feed) return NotFound();
            Input = FeedInput.From(feed);
        }
        return Page();
    }

    public async Task<IActionResult> OnPostSaveAsync()
    {
        var minute = DigestSchedule.ParseTime(Input.DigestTime);
        var weekdays = Input.Weekdays.Aggregate(0, (bits, day) => bits | DigestSchedule.Bit(day));
        // The digest's time and days matter only in digest mode: a breaking feed with those fields emptied keeps the defaults.
        if (Input.Mode == FeedMode.Breaking)
        {
            minute ??= DigestSchedule.DefaultMinuteOfDay;
            if (weekdays == 0) weekdays = DigestSchedule.MondayToFriday;
        }
        var settings = new FeedSettings(Input.Url ?? "", Input.Mode, Input.AutoSend, Input.Category, Input.MaxPerDay ?? 0, minute ?? -1, weekdays, Input.Enabled);
        var result = FeedId is { } id
            ? await feeds.UpdateAsync(NewsletterId, id, settings, User.Identity!.Name!)
            : await feeds.AddAsync(NewsletterId, settings, User.Identity!.Name!);
        if (result.NotFound) return NotFound();
        if (!result.Saved)
        {
            foreach (var (field, key) in result.Errors) ModelState.AddModelError($"Input.{FeedInput.FieldName(field)}", text[key]);
            return Page();
        }
        TempData["Message"] = text["Saved"].Value;
        return RedirectToPage("Index", new { newsletterId = NewsletterId });
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        if (FeedId is not { } id || !await feeds.DeleteAsync(NewsletterId, id, User.Identity!.Name!)) return NotFound();
        TempData["Message"] = text["Feeds_Removed"].Value;
        return RedirectToPage("Index", new { newsletterId = NewsletterId });
    }
}

public sealed class FeedInput
{
    public string? Url { get; set; }
    public FeedMode Mode { get; set; }
    public string? Category { get; set; }
    public bool AutoSend { get; set; }
    public int? MaxPerDay { get; set; } = 5;
    public string? DigestTime { get; set; } = DigestSchedule.FormatTime(DigestSchedule.DefaultMinuteOfDay);
    public List<DayOfWeek> Weekdays { get; set; } = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];
    public bool Enabled { get; set; } = true;

    public static FeedInput From(Feed feed) => new()
    {
        Url = feed.Url, Mode = feed.Mode, Category = feed.Category, AutoSend = feed.AutoSend, MaxPerDay = feed.MaxPerDay,
        DigestTime = DigestSchedule.FormatTime(feed.DigestMinuteOfDay),
        Weekdays = Enum.GetValues<DayOfWeek>().Where(d => DigestSchedule.Includes(feed.DigestWeekdays, d)).ToList(),
        Enabled = feed.Enabled,
    };

    public static string FieldName(FeedField field) => field switch
    {
        FeedField.DigestTime => nameof(DigestTime),
        FeedField.DigestWeekdays => nameof(Weekdays),
        _ => field.ToString(),
    };
}
