using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Account.Manage;

/// <summary>Ends every session of the member, this one included, and forgets every remembered browser.</summary>
public sealed class SignOutEverywhereModel(UserManager<StaffUser> users, SignInManager<StaffUser> signIn, OwnAccount account) : PageModel
{
    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await users.GetUserAsync(User);
        if (user is null) return Challenge();
        await account.SignOutEverywhereAsync(user);
        await signIn.ForgetTwoFactorClientAsync();
        await signIn.SignOutAsync();
        return RedirectToPage("/Account/Login");
    }
}
