using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin;

public sealed class IndexModel(AppDbContext db, TimeProvider clock, Inviting.WhatsAppAccounts whatsApp,
    Dashboard.AttentionItems attentionItems, NewsletterMigrator.Staff.NewsletterScope scope) : PageModel
{
    /// <param name="Missing">What the newsletter lacks before it may go live (C38): the "ready to go live" checklist.</param>
    public sealed record Row(int Id, string Name, string Slug, int Contacts, int Confirmed, int Pending, IReadOnlyList<LegalItem> Missing);

    public List<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync()
    {
        // An editor sees the newsletters assigned to them, an admin all.
        var rows = await (await scope.FilterAsync(db.Newsletters.AsNoTracking())).OrderBy(n => n.Name).Select(n => new
        {
            Newsletter = n,
            Contacts = db.Contacts.Count(c => c.NewsletterId == n.Id),
            Confirmed = db.Subscribers.Count(s => s.NewsletterId == n.Id && s.Status == SubscriberStatus.Confirmed),
            Pending = db.Subscribers.Count(s => s.NewsletterId == n.Id && s.Status == SubscriberStatus.Pending),
        }).ToListAsync();
        Rows = rows.Select(r => new Row(r.Newsletter.Id, r.Newsletter.Name, r.Newsletter.Slug, r.Contacts, r.Confirmed, r.Pending,
            LegalReadiness.Missing(r.Newsletter))).ToList();
        // Migration end reminders (C16), from the newsletters just read.
        var now = clock.GetUtcNow().UtcDateTime;
        MigrationEndReminders = [.. rows.Select(r => MigrationEnd.Reminder(r.Newsletter, now)).OfType<MigrationEndReminder>().OrderBy(r => r.EndsAtUtc)];
        // A paused WhatsApp queue sends nothing for any newsletter: staff must see it where they start.
        WhatsAppPause = new WhatsAppPauseBanner(await whatsApp.GetAsync(), ResumeHere: false, Rows.FirstOrDefault()?.Id);
        await LoadAttentionAsync();
    }

    /// <summary>What staff must act on (paused campaigns, failing SMTP, an overdue backup, withdrawals by mail).</summary>
    public Dashboard.Attention? Attention { get; private set; }

    // An editor's items concern the newsletters listed for them (Rows, which the editor scope filters); an admin's all of them.
    private async Task LoadAttentionAsync()
    {
        var admin = User.IsInRole(NewsletterMigrator.Staff.Roles.Admin);
        Attention = await attentionItems.ForAsync(admin, admin ? null : Rows.Select(r => r.Id).ToList(), HttpContext.RequestAborted);
    }

    public WhatsAppPauseBanner? WhatsAppPause { get; private set; }

    public List<MigrationEndReminder> MigrationEndReminders { get; private set; } = [];
}
