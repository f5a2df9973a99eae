using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Manage;

/// <summary>The DOI link for a new address opens this page; only the button's POST changes the address (C9).</summary>
public sealed class ChangeModel(ManageService manage, AppDbContext db) : PageModel
{
    public ChangeConfirmState State { get; private set; }
    public bool JustChanged { get; private set; }
    public string NewsletterName { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string token)
    {
        var (state, subscriber) = await manage.InspectChangeAsync(token);
        return await ShowAsync(state, subscriber?.NewsletterId);
    }

    public async Task<IActionResult> OnPostAsync(string token)
    {
        var (_, subscriber) = await manage.InspectChangeAsync(token);
        var state = await manage.ConfirmChangeAsync(token, HttpContext.Connection.RemoteIpAddress?.ToString(), Request.Headers.UserAgent.ToString());
        JustChanged = state == ChangeConfirmState.Ready;
        return await ShowAsync(state, subscriber?.NewsletterId);
    }

    private async Task<IActionResult> ShowAsync(ChangeConfirmState state, int? newsletterId)
    {
        State = state;
        if (newsletterId is { } id)
        {
            NewsletterName = (await this.ShowNewsletterAsync(db, id)).Name;
        }
        if (state == ChangeConfirmState.Unknown) Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
