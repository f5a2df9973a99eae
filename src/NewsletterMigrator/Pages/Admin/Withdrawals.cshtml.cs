using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>
/// Withdrawals that reached staff by mail, phone or letter (C44): an address or a number, the channel, done.
/// Every staff member may record one (editors answer the readers' mails and calls too); it only ever stops mail.
/// The answer says what happened in counts only; the details are in the ledger and the audit log.
/// </summary>
public sealed class WithdrawalsModel(InformalWithdrawals withdrawals, IStringLocalizer<SharedResource> text) : PageModel
{
    [BindProperty] public string? Value { get; set; }
    [BindProperty] public string Channel { get; set; } = WithdrawalChannel.Mail;
    public string? Message { get; private set; }
    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var result = await withdrawals.RecordAsync(Value, Channel, User.Identity!.Name!, ct);
        switch (result.Status)
        {
            case InformalWithdrawalStatus.Recorded:
                // The withdrawal ends subscriptions to every newsletter (C44); an editor is not told how many, which would
                // say whether the address reads newsletters they do not work on, nor whether the number was blocked before:
                // the block list is the installation's, and an earlier entry may be another newsletter's objection.
                var admin = User.IsInRole(NewsletterMigrator.Staff.Roles.Admin);
                var ended = admin
                    ? text["Withdrawal_SubscriptionsEnded", result.SubscriptionsEnded].Value
                    : text["Staff_WithdrawalEndedEverywhere"].Value;
                Message = result.ByNumber
                    ? $"{ended} {(admin && !result.NumberNewlySuppressed ? text["Withdrawal_NumberAlreadyBlocked"] : text["Withdrawal_NumberBlocked"])}"
                    : $"{ended} {text["Withdrawal_AddressDone"]}";
                Value = null;
                return Page();
            case InformalWithdrawalStatus.InvalidChannel:
                Error = text["Withdrawal_ChannelInvalid"];
                break;
            default:
                Error = text["Withdrawal_ValueInvalid"];
                break;
        }
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
