using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>
/// The contact list. Numbers and wa.me links are personal data: only admins see them here; editors
/// see a number only in the invitation queue, while that contact is being sent (ARCHITECTURE: roles).
/// </summary>
public sealed class ContactsModel(AppDbContext db, InvitationLinks links, PhoneProtector phones, IStringLocalizer<SharedResource> text) : PageModel
{
    public const int Size = 50;

    public sealed record Row(Guid Id, string? Name, string? Number, string InvitationUrl, string? WhatsAppUrl, string Status, bool Invited);

    [FromRoute] public int NewsletterId { get; set; }
    [FromQuery(Name = "p")] public int PageNumber { get; set; } = 1;
    public int PageSize => Size;
    public string NewsletterName { get; private set; } = "";
    public int Total { get; private set; }
    public bool ShowsPersonalData { get; private set; }
    public List<Row> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return NotFound();
        NewsletterName = newsletter.Name;
        ShowsPersonalData = User.IsInRole(Roles.Admin);
        PageNumber = Math.Max(1, PageNumber);
        var query = db.Contacts.AsNoTracking().Where(c => c.NewsletterId == NewsletterId);
        Total = await query.CountAsync();
        // Version 7 Guids sort by creation time.
        var contacts = await query.OrderBy(c => c.Id).Skip((PageNumber - 1) * Size).Take(Size).ToListAsync();
        Rows = contacts.Select(c =>
        {
            var number = ShowsPersonalData && c.PhoneEncrypted is not null ? phones.Decrypt(c.PhoneEncrypted) : null;
            var invitation = links.InvitationUrl(c);
            return new Row(c.Id, c.DisplayName, number, invitation, number is null ? null : links.WhatsAppUrl(newsletter, c, number),
                ContactStatus.Text(c, text), c.InvitedAtUtc is not null);
        }).ToList();
        return Page();
    }
}
