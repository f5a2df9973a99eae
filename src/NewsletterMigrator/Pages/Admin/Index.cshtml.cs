using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin;

public sealed class IndexModel(AppDbContext db, TimeProvider clock) : PageModel
{
    public sealed record Row(int Id, string Name, string Slug, int Contacts, int Confirmed, int Pending);

    public List<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Rows = await db.Newsletters.OrderBy(n => n.Name).Select(n => new Row(n.Id, n.Name, n.Slug,
            db.Contacts.Count(c => c.NewsletterId == n.Id),
            db.Subscribers.Count(s => s.NewsletterId == n.Id && s.Status == SubscriberStatus.Confirmed),
            db.Subscribers.Count(s => s.NewsletterId == n.Id && s.Status == SubscriberStatus.Pending))).ToListAsync();
        await LoadMigrationEndRemindersAsync();
    }

    // --- Migration end reminders (C16) ---
    public List<MigrationEndReminder> MigrationEndReminders { get; private set; } = [];

    private async Task LoadMigrationEndRemindersAsync()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var soon = now + MigrationEnd.ReminderLead;
        var ending = await db.Newsletters.AsNoTracking()
            .Where(n => n.MigrationEndsAtUtc != null && n.MigrationEndsAtUtc >= now && n.MigrationEndsAtUtc <= soon).ToListAsync();
        MigrationEndReminders = [.. ending.Select(n => MigrationEnd.Reminder(n, now)).OfType<MigrationEndReminder>().OrderBy(r => r.EndsAtUtc)];
    }
}
