using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Join;

/// <summary>A personal invitation. An unknown, forged or expired token shows the general sign-up and reveals nothing.</summary>
public sealed class InviteModel(AppDbContext db, ReaderCache cache, SignUpService signUps,
    IStringLocalizer<SharedResource> text, TimeProvider clock, Subscribers.PhoneObjections objections, InvitationOpens opens, TokenService tokens)
    : SignUpPageModel(db, cache, signUps, text)
{
    /// <summary>The link is a valid personal invitation: its reader may object to it here (C41), besides replying STOP.</summary>
    public bool CanObject => InvitationContactId is not null && !Submitted && !NotOpen;

    /// <summary>The reader objected: the number is suppressed and erased, no invitation follows.</summary>
    public bool Objected { get; private set; }

    // Link previews are not readers (C35).
    private static readonly string[] PreviewAgents = ["WhatsApp", "facebookexternalhit", "Facebot", "Slackbot", "Twitterbot", "TelegramBot", "Discordbot", "LinkedInBot", "SkypeUriPreview", "Googlebot", "bingbot"];

    protected override string PageName => "invitation";

    public async Task<IActionResult> OnGetAsync(string token)
    {
        await ResolveAsync(token, countOpen: true);
        return await ShowFormAsync();
    }

    public async Task<IActionResult> OnPostAsync(string token)
    {
        await ResolveAsync(token, countOpen: false);
        return await SubmitAsync();
    }

    /// <summary>
    /// "Keine Nachrichten mehr" (C41, Art. 21): the same objection as a STOP reply. A forged or expired link
    /// objects to nothing and shows the general page, like any other unknown link.
    /// </summary>
    public async Task<IActionResult> OnPostObjectAsync(string token)
    {
        await ResolveAsync(token, countOpen: false);
        if (InvitationContactId is { } contactId && Newsletter is not null && LegalReadiness.IsOpen(Newsletter))
        {
            await objections.ObjectContactAsync(Newsletter.Id, contactId, Subscribers.WithdrawalChannel.Link, "reader (invitation link)");
            Objected = true;
            this.Show(Newsletter);
            return Page();
        }
        return await ShowFormAsync();
    }

    private async Task ResolveAsync(string token, bool countOpen)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var id = TokenService.TryReadRecordId(token);
        var contact = id is { } contactId ? await InvitedContactById.For(Db)(Db, contactId) : null;
        if (contact is not null && (contact.InviteRevoked || !tokens.MatchesAddressed(token, TokenPurpose.Invitation, contact.Id, contact.TokenGeneration))) contact = null;
        if (contact is not null)
        {
            Newsletter = await Cache.NewsletterAsync(contact.NewsletterId);
            // The link lived until the end date.
            if (Newsletter is null || Newsletter.MigrationEndsAtUtc is { } end && end < now) contact = null;
        }
        if (contact is null)
        {
            // Which newsletter a forged link meant is unknowable; with one newsletter its general page is the answer.
            var only = await Cache.AllNewslettersAsync();
            Newsletter = only.Count == 1 ? only[0] : null;
            return;
        }
        InvitationContactId = contact.Id;
        // A newsletter that is not open yet shows no form, so nobody has opened an invitation to it (C38).
        // Written off the request, in batches (InvitationOpens): no database write on a GET (issue 17).
        if (countOpen && contact.OpenedAtUtc is null && !IsPreviewFetcher() && LegalReadiness.IsOpen(Newsletter!))
            opens.Record(contact.Id);
    }

    /// <summary>What the page needs of a contact, never its number or name.</summary>
    private sealed record InvitedContact(Guid Id, int NewsletterId, bool InviteRevoked, int TokenGeneration, DateTime? OpenedAtUtc);

    // Compiled once: the page's only query, on every personal link a reader taps. Building and translating the LINQ
    // expression each time was a measurable part of the page in the profile of issue 17.
    private static readonly CompiledPerProvider<Func<AppDbContext, Guid, Task<InvitedContact?>>> InvitedContactById = new(() => EF.CompileAsyncQuery(
        (AppDbContext db, Guid id) => db.Contacts.Where(c => c.Id == id)
            .Select(c => new InvitedContact(c.Id, c.NewsletterId, c.InviteRevoked, c.TokenGeneration, c.OpenedAtUtc)).SingleOrDefault()));

    private bool IsPreviewFetcher()
    {
        var agent = Request.Headers.UserAgent.ToString();
        return agent.Length == 0 || PreviewAgents.Any(p => agent.Contains(p, StringComparison.OrdinalIgnoreCase));
    }
}
