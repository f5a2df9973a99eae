using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Pages.Admin.Invitations;

/// <summary>
/// The click-to-chat queue (C27): one contact at a time; the number is shown only while that contact
/// is being sent (ARCHITECTURE: roles). "Send" marks the contact invited and answers with a redirect
/// to wa.me, opened in a new tab; the message is a draft the editor sends in WhatsApp.
/// </summary>
public sealed class QueueModel(AppDbContext db, InvitationQueue queue, InvitationLinks links, PhoneProtector phones,
    IStringLocalizer<SharedResource> text, ILogger<QueueModel> logger) : PageModel
{
    [FromRoute] public int NewsletterId { get; set; }
    [BindProperty(SupportsGet = true)] public int? Import { get; set; }
    [BindProperty(SupportsGet = true)] public QueueFilter Filter { get; set; } = QueueFilter.Open;
    [BindProperty(SupportsGet = true)] public Guid? After { get; set; }
    [BindProperty(SupportsGet = true)] public string? Lang { get; set; }

    public Newsletter Newsletter { get; private set; } = null!;
    public InvitationGate Gate { get; private set; }
    public List<SelectListItem> Imports { get; private set; } = [];
    public InvitationQueue.Position Position { get; private set; } = new(null, 0, 0, 0);
    public bool CanSend { get; private set; }
    public string? Number { get; private set; }
    public string? Message { get; private set; }
    public string? Status { get; private set; }
    /// <summary>What the text in this language leaves out of what C41 asks ({sender}, {link}, {privacy}).</summary>
    public List<string> MissingPlaceholders { get; private set; } = [];

    // The send form's answer redirects to wa.me (which forwards to api.whatsapp.com); CSP form-action covers redirects.
    private const string FormTargets = "form-action 'self' https://wa.me https://api.whatsapp.com";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return NotFound();
        Response.Headers.ContentSecurityPolicy = SecurityHeaders.Policy.Replace("form-action 'self'", FormTargets);
        Lang = Languages.Normalize(Lang ?? Newsletter.DefaultLanguage);
        // A failed import is kept, emptied, only so that its page says why; it has no contacts to offer.
        Imports = await db.ImportBatches.AsNoTracking().Where(b => b.NewsletterId == NewsletterId && b.Status != ImportStatus.Failed).OrderBy(b => b.Id)
            .Select(b => new SelectListItem($"#{b.Id} {b.FileName}", b.Id.ToString())).ToListAsync(ct);
        MissingPlaceholders = [.. InvitationLinks.MissingPlaceholders(InvitationLinks.Template(Newsletter, Lang))];
        Position = await queue.NextAsync(NewsletterId, Import, Filter, After, ct);
        if (Position.Current is { } contact)
        {
            Status = ContactStatus.Text(contact, text);
            Message = links.Message(Newsletter, contact, Lang);
            CanSend = Gate == InvitationGate.Open && await InvitationQueue.Invitable(db.Contacts.Where(c => c.Id == contact.Id), db).AnyAsync(ct);
            if (CanSend) Number = phones.Decrypt(contact.PhoneEncrypted!);
        }
        return Page();
    }

    public async Task<IActionResult> OnPostSendAsync(Guid contactId, CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return NotFound();
        if (Gate != InvitationGate.Open)
        {
            TempData["Error"] = GateMessage(Gate);
            return RedirectToPage(new { NewsletterId, Import, Filter, After, Lang });
        }
        var contact = await db.Contacts.AsNoTracking().Of(NewsletterId, contactId).SingleOrDefaultAsync(ct);
        if (contact is null) return NotFound();
        if (contact.PhoneEncrypted is null || !await queue.MarkInvitedAsync(NewsletterId, contactId, ct))
        {
            // Another editor (or the API) was first, or the form was forged: never a second invitation (C11).
            TempData["Error"] = text["Queue_AlreadyInvited"].Value;
            return RedirectToPage(new { NewsletterId, Import, Filter, After = contactId, Lang });
        }
        var number = phones.Decrypt(contact.PhoneEncrypted);
        logger.LogInformation("Contact {ContactId} ({Number}) invited by click-to-chat", contact.Id, Redact.Phone(number));
        return Redirect(links.WhatsAppUrl(Newsletter, contact, number, Languages.Normalize(Lang ?? Newsletter.DefaultLanguage)));
    }

    public string GateMessage(InvitationGate gate) => gate == InvitationGate.Open ? "" : text[InvitationQueue.MessageKey(gate)];

    public object Route(Guid? after) => new { NewsletterId, Import, Filter, After = after, Lang };

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == NewsletterId, ct);
        if (newsletter is null) return false;
        // The import chosen in the filter, carried by every form of the page, is one of this newsletter's.
        if (Import is { } import && !await db.ImportBatches.Of(NewsletterId, import).AnyAsync(ct)) return false;
        Newsletter = newsletter;
        Gate = queue.Gate(newsletter);
        return true;
    }
}
