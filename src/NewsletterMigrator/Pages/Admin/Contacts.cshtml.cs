using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Pages.Admin;

public sealed class ContactsModel(AppDbContext db, InvitationLinks links, PhoneProtector phones, IStringLocalizer<SharedResource> text) : PageModel
{
    public const int Size = 50;

    public sealed record Row(string? Name, string? Number, string InvitationUrl, string? WhatsAppUrl, string Status);

    [FromRoute] public int NewsletterId { get; set; }
    [FromQuery(Name = "p")] public int PageNumber { get; set; } = 1;
    public int PageSize => Size;
    public string NewsletterName { get; private set; } = "";
    public int Total { get; private set; }
    public List<Row> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return NotFound();
        NewsletterName = newsletter.Name;
        PageNumber = Math.Max(1, PageNumber);
        var query = db.Contacts.AsNoTracking().Where(c => c.NewsletterId == NewsletterId);
        Total = await query.CountAsync();
        // Keyset-friendly order: Version 7 Guids sort by creation time.
        var contacts = await query.OrderBy(c => c.Id).Skip((PageNumber - 1) * Size).Take(Size).ToListAsync();
        Rows = contacts.Select(c =>
        {
            var number = c.PhoneEncrypted is null ? null : phones.Decrypt(c.PhoneEncrypted);
            var invitation = links.InvitationUrl(c);
            return new Row(c.DisplayName, number, invitation, number is null ? null : links.WhatsAppUrl(newsletter, c, number), Status(c));
        }).ToList();
        return Page();
    }

    private string Status(Contact c) =>
        c.UnsubscribedAtUtc is not null ? text["Funnel_Unsubscribed"]
        : c.ConfirmedAtUtc is not null ? text["Funnel_Confirmed"]
        : c.SignedUpAtUtc is not null ? text["Funnel_SignedUp"]
        : c.OpenedAtUtc is not null ? text["Funnel_Opened"]
        : c.InvitedAtUtc is not null ? text["Funnel_Invited"]
        : text["Funnel_Imported"];
}
