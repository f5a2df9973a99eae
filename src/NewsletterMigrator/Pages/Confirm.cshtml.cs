using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages;

/// <summary>The DOI link opens this page; only the button's POST confirms, so link-scanning mail filters cannot (C9).</summary>
public sealed class ConfirmModel(ConfirmationService confirmations, AppDbContext db) : PageModel
{
    public ConfirmState State { get; private set; }
    public bool JustConfirmed { get; private set; }
    /// <summary>Only a reader who came from a WhatsApp invitation had a phone number to delete (C16).</summary>
    public bool PhoneDeleted { get; private set; }
    public bool Resent { get; private set; }
    public string NewsletterName { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string token)
    {
        var (state, subscriber) = await confirmations.InspectAsync(token);
        return await ShowAsync(state, subscriber?.NewsletterId);
    }

    public async Task<IActionResult> OnPostAsync(string token)
    {
        var (_, subscriber) = await confirmations.InspectAsync(token);
        var state = await confirmations.ConfirmAsync(token, HttpContext.Connection.RemoteIpAddress?.ToString(), Request.Headers.UserAgent.ToString());
        JustConfirmed = state == ConfirmState.Ready;
        PhoneDeleted = JustConfirmed && subscriber?.ContactId is not null;
        return await ShowAsync(state, subscriber?.NewsletterId);
    }

    public async Task<IActionResult> OnPostResendAsync(string token)
    {
        var (state, subscriber) = await confirmations.InspectAsync(token);
        await confirmations.ResendAsync(token);
        Resent = state == ConfirmState.Expired;
        return await ShowAsync(state, subscriber?.NewsletterId);
    }

    private async Task<IActionResult> ShowAsync(ConfirmState state, int? newsletterId)
    {
        State = state;
        if (newsletterId is { } id)
        {
            NewsletterName = (await this.ShowNewsletterAsync(db, id)).Name;
        }
        if (state == ConfirmState.Unknown) Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
