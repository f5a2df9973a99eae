using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>
/// The contact list. Numbers and wa.me links are personal data: only admins see them here; editors
/// see a number only in the invitation queue, while that contact is being sent (ARCHITECTURE: roles).
/// "STOP received" records a reader's objection (C41): staff running the queue are the ones who see the
/// reply in WhatsApp, so every staff member may record it; it only ever stops processing, and is audited.
/// </summary>
public sealed class ContactsModel(AppDbContext db, InvitationLinks links, PhoneProtector phones, PhoneObjections objections,
    IStringLocalizer<SharedResource> text) : PageModel
{
    public const int Size = 50;

    /// <param name="CanObject">The number is still stored: "STOP received" only makes sense while there is one to suppress.</param>
    public sealed record Row(Guid Id, string? Name, string? Number, string? InvitationUrl, string? WhatsAppUrl, string Status, bool Invited, bool CanObject);

    [FromRoute] public int NewsletterId { get; set; }
    [FromQuery(Name = "p")] public int PageNumber { get; set; } = 1;
    /// <summary>
    /// The contact whose STOP is about to be recorded: the page asks to confirm first. Bound by the GET handler only:
    /// the POST takes its contact from the form, so a bound but unread record id would be one nobody checks.
    /// </summary>
    public Guid? Stop { get; private set; }
    public string? StopName { get; private set; }
    public int PageSize => Size;
    public string NewsletterName { get; private set; } = "";
    public int Total { get; private set; }
    /// <summary>Contacts Meta reported as not on WhatsApp (131026): the list links their export for another channel.</summary>
    public int NotOnWhatsApp { get; private set; }
    public bool ShowsPersonalData { get; private set; }
    public List<Row> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync([FromQuery(Name = "stop")] Guid? stop)
    {
        Stop = stop;
        if (stop is not null)
        {
            var contact = await db.Contacts.AsNoTracking().Of(NewsletterId, stop.Value).SingleOrDefaultAsync();
            if (contact is null) return NotFound();
            // One that has objected already needs no second confirmation: the list shows it as objected.
            StopName = contact.ObjectedAtUtc is not null ? null : contact.DisplayName ?? text["Queue_NoName"];
        }
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId);
        if (newsletter is null) return NotFound();
        NewsletterName = newsletter.Name;
        ShowsPersonalData = User.IsInRole(Roles.Admin);
        PageNumber = Math.Max(1, PageNumber);
        var query = db.Contacts.AsNoTracking().Where(c => c.NewsletterId == NewsletterId);
        Total = await query.CountAsync();
        NotOnWhatsApp = await query.CountAsync(c => c.NotOnWhatsAppAtUtc != null);
        // Version 7 Guids sort by creation time.
        var contacts = await query.OrderBy(c => c.Id).Skip((PageNumber - 1) * Size).Take(Size).ToListAsync();
        Rows = contacts.Select(c =>
        {
            var number = ShowsPersonalData && c.PhoneEncrypted is not null ? phones.Decrypt(c.PhoneEncrypted) : null;
            // An objected contact's link is dead (C41): none is shown.
            var invitation = c.ObjectedAtUtc is null ? links.InvitationUrl(c) : null;
            return new Row(c.Id, c.DisplayName, number, invitation, number is null || invitation is null ? null : links.WhatsAppUrl(newsletter, c, number),
                ContactStatus.Text(c, text), c.InvitedAtUtc is not null, c.ObjectedAtUtc is null && c.PhoneEncrypted is not null);
        }).ToList();
        return Page();
    }

    /// <summary>"STOP received": the number is suppressed, erased here, and nothing more is sent to it (C41, C44).</summary>
    public async Task<IActionResult> OnPostStopAsync(Guid contactId, int? p, CancellationToken ct)
    {
        var result = await objections.ObjectContactAsync(NewsletterId, contactId, WithdrawalChannel.WhatsApp + " (staff)", User.Identity!.Name!, ct);
        if (result is null) return NotFound();
        TempData["Message"] = text["Contacts_StopRecorded"].Value;
        return RedirectToPage(new { NewsletterId, p });
    }
}
