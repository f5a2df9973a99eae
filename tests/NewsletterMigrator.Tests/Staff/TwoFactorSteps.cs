using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Two-factor steps as a staff member takes them, for the tests.</summary>
public static class TwoFactorSteps
{
    /// <summary>Sets up 2FA for an account through the app's own service, as the set-up page does; the shared key and the recovery codes.</summary>
    public static async Task<(string Key, IReadOnlyList<string> RecoveryCodes)> EnableTwoFactorAsync(this AppFactory app, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        var twoFactor = scope.ServiceProvider.GetRequiredService<StaffTwoFactor>();
        var user = (await users.FindByEmailAsync(email))!;
        var setup = await twoFactor.SetupAsync(user);
        var codes = await twoFactor.EnableAsync(user, Totp.Next(setup.Key)) ?? throw new InvalidOperationException("The current code was refused.");
        return (setup.Key, codes);
    }

    /// <summary>The code page of sign-in step 2, submitted with the given code.</summary>
    public static async Task<HttpResponseMessage> EnterCodeAsync(this HttpClient client, string code, bool rememberBrowser = false, string path = "/account/login/code")
    {
        var page = await client.GetStringAsync(path);
        return await client.PostFormAsync(path, page, new() { ["Code"] = code, ["RememberBrowser"] = rememberBrowser ? "true" : "false" });
    }

    public static async Task<HttpResponseMessage> EnterRecoveryCodeAsync(this HttpClient client, string recoveryCode)
    {
        var page = await client.GetStringAsync("/account/login/recovery");
        return await client.PostFormAsync("/account/login/recovery", page, new() { ["RecoveryCode"] = recoveryCode });
    }

    public static async Task<StaffUser> StaffUserAsync(this AppFactory app, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>().FindByEmailAsync(email))!;
    }
}
