using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Manage;

/// <summary>
/// The preference page behind the newsletter's own link. A forwarded newsletter must not open personal data (C33):
/// here only status, language and unsubscribing; export, change and erasure need the link mailed to the subscribed address.
/// </summary>
public sealed class IndexModel(UnsubscribeService unsubscribes, ManageService manage, AppDbContext db, IStringLocalizer<SharedResource> text) : PageModel
{
    public Subscriber? Subscriber { get; private set; }
    public bool IsTest { get; private set; }
    public string NewsletterName { get; private set; } = "";
    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token) => await LoadAsync(token) ? Page() : Page();

    public async Task<IActionResult> OnPostLanguageAsync(string token, string? language)
    {
        if (!await LoadAsync(token)) return Page();
        await manage.SetLanguageAsync(Subscriber!, language ?? "");
        Message = text["Manage_LanguageSaved"];
        return Page();
    }

    public async Task<IActionResult> OnPostUnsubscribeAsync(string token)
    {
        if (!await LoadAsync(token)) return Page();
        await unsubscribes.UnsubscribeAsync(token, WithdrawalChannel.Link);
        Message = text["Unsubscribe_DoneText", NewsletterName];
        return Page();
    }

    public async Task<IActionResult> OnPostAccessAsync(string token)
    {
        if (!await LoadAsync(token)) return Page();
        // The same answer whether or not the interval allowed a new mail.
        await manage.RequestAccessLinkAsync(Subscriber!);
        Message = text["Manage_DataSent"];
        return Page();
    }

    private async Task<bool> LoadAsync(string token)
    {
        if (token == "test")
        {
            IsTest = true;
            return false;
        }
        Subscriber = await unsubscribes.FindAsync(token);
        if (Subscriber is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        NewsletterName = (await this.ShowNewsletterAsync(db, Subscriber.NewsletterId)).Name;
        return true;
    }
}
