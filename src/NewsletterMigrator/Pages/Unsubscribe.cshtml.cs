using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages;

/// <summary>
/// GET shows a button and never unsubscribes; POST unsubscribes. The POST is also the RFC 8058 one-click
/// endpoint: mail providers send it without cookies or antiforgery token, and want 200 without a redirect (C21).
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class UnsubscribeModel(UnsubscribeService unsubscribes, AppDbContext db) : PageModel
{
    public bool Unknown { get; private set; }
    public bool Done { get; private set; }
    public bool IsTest { get; private set; }
    public string NewsletterName { get; private set; } = "";
    public string Token { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string token)
    {
        if (token == "test") return Test();
        var subscriber = await unsubscribes.FindAsync(token);
        await DescribeAsync(subscriber);
        Done = subscriber?.Status == SubscriberStatus.Unsubscribed;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string token)
    {
        if (token == "test") return Test();
        var oneClick = Request.HasFormContentType && Request.Form["List-Unsubscribe"] == "One-Click";
        var subscriber = await unsubscribes.FindAsync(token);
        await DescribeAsync(subscriber);
        if (subscriber is not null)
            Done = await unsubscribes.UnsubscribeAsync(token, oneClick ? WithdrawalChannel.OneClick : WithdrawalChannel.Link);
        return Page();
    }

    private IActionResult Test()
    {
        IsTest = true;
        return Page();
    }

    private async Task DescribeAsync(Subscriber? subscriber)
    {
        Unknown = subscriber is null;
        Token = (string?)RouteData.Values["token"] ?? "";
        if (Unknown)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        NewsletterName = (await this.ShowNewsletterAsync(db, subscriber!.NewsletterId)).Name;
    }
}
