using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.StaffSteps;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 15, point 3: a password reset by mail link, expiring and single use; the "forgot password" page answers every
/// address alike and mails off the request; a deactivated account gets nothing.
/// </summary>
public sealed partial class PasswordResetTests
{
    private const string Staff = "redakteur@example.test";

    [Fact]
    public async Task Forgot_password_answers_every_address_alike_and_mails_a_link_that_sets_a_new_password_once_and_ends_other_sessions()
    {
        await using var app = new AppFactory();
        await app.StaffAsync(Staff, Password, Roles.Editor);
        var session = app.ReaderClient();
        await session.SignInAsync(Staff, Password);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/admin")).StatusCode);

        var login = await app.ReaderClient().GetStringAsync("/account/login");
        Assert.Contains("href=\"/account/forgot-password\"", login);
        var unknown = await ForgotAsync(app.ReaderClient(), "niemand@example.test");
        var known = await ForgotAsync(app.ReaderClient(), Staff);
        Assert.Equal(HttpStatusCode.OK, known.Status);
        Assert.Equal(unknown, known);
        Assert.Contains("Wenn es zu dieser Adresse einen aktiven Zugang gibt", known.Body);

        var mail = await app.Smtp.WaitForAsync(Staff, "Neues Passwort");
        Assert.Contains("gilt 2 Stunden", mail.TextBody);
        Assert.DoesNotContain(app.Smtp.Messages, m => m.To.ToString().Contains("niemand")); // its request was handled first
        var link = LinkIn(mail, "/account/reset-password");

        var reader = app.ReaderClient();
        Assert.Contains("stimmen nicht überein", await (await reader.SetPasswordAsync(link, "a brand new password", "something else entirely")).Content.ReadAsStringAsync());
        var set = await reader.SetPasswordAsync(link, "a brand new password");
        Assert.Equal("/account/login", set.Headers.Location?.OriginalString);
        Assert.True(LandsOnLogin(await session.GetAsync("/admin")), "the other session ended");
        Assert.Equal(HttpStatusCode.OK, (await app.ReaderClient().SignInAsync(Staff, Password)).StatusCode); // the old one fails
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SignInAsync(Staff, "a brand new password")).StatusCode);

        var again = await app.ReaderClient("en").GetAsync(link);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("This reset link has expired, has been used already or is not valid", await again.Content.ReadAsStringAsync());
        Assert.Contains("password reset link mailed to r***@example.test", await app.AuditAsync());
        Assert.Contains("r***@example.test set a new password through a reset link", await app.AuditAsync());
    }

    [Fact]
    public async Task A_reset_link_expires_after_two_hours_and_changes_nothing_then()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        await app.StaffAsync(Staff, Password, Roles.Editor);
        await ForgotAsync(app.ReaderClient(), Staff);
        var link = LinkIn(await app.Smtp.WaitForAsync(Staff, "Neues Passwort"), "/account/reset-password");
        clock.Advance(TimeSpan.FromMinutes(119));
        Assert.Equal(HttpStatusCode.OK, (await app.ReaderClient().GetAsync(link)).StatusCode);
        clock.Advance(TimeSpan.FromMinutes(2));
        var reader = app.ReaderClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await reader.GetAsync(link)).StatusCode);
        // The form sent to the expired link anyway (a tab left open): the POST handler checks the link itself.
        var expired = await reader.PostFieldsAsync(link, await reader.GetStringAsync("/account/forgot-password"),
            ("Password", "a brand new password"), ("Confirmation", "a brand new password"));
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Contains("Dieser Link zum Zurücksetzen ist abgelaufen", await expired.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SignInAsync(Staff, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.ReaderClient().SignInAsync(Staff, "a brand new password")).StatusCode);
    }

    [Fact]
    public async Task In_Development_dev_mail_lists_readers_mails_but_no_staff_link_which_stays_in_the_pickup_folder_s_staff_folder()
    {
        await using var app = new AppFactory(environment: "Development", settings: new() { ["Smtp:Host"] = "" });
        await app.StaffAsync("admin@example.test", Password, Roles.Admin);
        var pickup = Path.Combine(app.DataDirectory, "mail-pickup");
        // A reader's mail, through the same transport the delivery worker uses.
        await using (var scope = app.Services.CreateAsyncScope())
        await using (var transport = scope.ServiceProvider.GetRequiredService<NewsletterMigrator.Sending.MailTransportFactory>().Create())
        {
            var reader = new MimeKit.MimeMessage { Subject = "Bitte bestätigen Sie Ihre Anmeldung" };
            reader.From.Add(MimeKit.MailboxAddress.Parse("news@example.test"));
            reader.To.Add(MimeKit.MailboxAddress.Parse("leser@example.test"));
            reader.Body = new MimeKit.TextPart("plain") { Text = "Link" };
            await transport.SendAsync(reader, CancellationToken.None);
        }

        // Anyone who reaches the box asks for the admin's reset link.
        var stranger = app.ReaderClient();
        await ForgotAsync(stranger, "admin@example.test");
        var staffFolder = Path.Combine(pickup, "staff");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(Directory.Exists(staffFolder) && Directory.GetFiles(staffFolder, "*.eml").Length == 1) && DateTime.UtcNow < deadline) await Task.Delay(100);
        var staffMail = Assert.Single(Directory.GetFiles(staffFolder, "*.eml"));
        Assert.Contains("/account/reset-password", await File.ReadAllTextAsync(staffMail));

        var list = await stranger.GetStringAsync("/dev/mail");
        Assert.Contains("leser@example.test", list);
        Assert.Contains("1 mail(s)", list);
        Assert.DoesNotContain("admin@example.test", list);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("/dev/mail/" + Path.GetFileName(staffMail))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("/dev/mail/staff%2F" + Path.GetFileName(staffMail))).StatusCode);
    }

    [Fact]
    public async Task A_deactivated_account_and_an_open_invitation_get_no_reset_mail()
    {
        await using var app = new AppFactory();
        await app.StaffAsync(Staff, Password, Roles.Editor);
        await app.StaffAsync("aktiv@example.test", Password, Roles.Editor);
        var admin = await app.AdminAsync();
        await admin.StaffActionAsync(await app.UserIdAsync(Staff), "Deactivate");
        await admin.InviteAsync("neu@example.test", Roles.Editor);
        await app.Smtp.WaitForAsync("neu@example.test", "Ihr Zugang");

        await ForgotAsync(app.ReaderClient(), Staff);
        await ForgotAsync(app.ReaderClient(), "neu@example.test");
        await ForgotAsync(app.ReaderClient(), "aktiv@example.test");
        await app.Smtp.WaitForAsync("aktiv@example.test", "Neues Passwort");
        Assert.DoesNotContain(app.Smtp.Messages, m => m.To.ToString().Contains(Staff));
        Assert.Single(app.Smtp.Messages, m => m.To.ToString().Contains("neu@example.test"));
    }

    [Fact]
    public async Task Asking_for_reset_links_counts_against_the_sign_in_limit_per_IP()
    {
        await using var app = new AppFactory(settings: new() { ["SignIn:AttemptsPerIp"] = "2" });
        var client = app.ReaderClient();
        Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(client, "a@example.test")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(client, "b@example.test")).Status);
        var refused = await ForgotAsync(client, Staff);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Contains("Zu viele Anmeldeversuche", refused.Body);
    }

    [Fact]
    public async Task The_link_tokens_never_reach_a_log_line()
    {
        var logs = new CapturingLoggerProvider();
        await using var baseApp = new AppFactory();
        await using var app = baseApp.WithWebHostBuilder(b => b.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(logs);
            logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
        }));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync(Staff, Password, Roles.Editor, "test");
            Assert.True(result.Succeeded);
        }
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await ForgotAsync(client, Staff);
        var link = LinkIn(await baseApp.Smtp.WaitForAsync(Staff, "Neues Passwort"), "/account/reset-password");
        await client.SetPasswordAsync(link, "a brand new password");
        var token = Regex.Match(link, "token=([^&]+)").Groups[1].Value;
        Assert.True(token.Length >= 100, token);
        Assert.Contains(logs.Lines, l => l.Contains("/account/reset-password"));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(token[..40]));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Staff));
    }

    private static async Task<(HttpStatusCode Status, string Body)> ForgotAsync(HttpClient client, string email)
    {
        var page = await client.GetStringAsync("/account/forgot-password");
        var response = await client.PostFormAsync("/account/forgot-password", page, new() { ["Email"] = email });
        // The antiforgery token differs on every page; everything else must not.
        return (response.StatusCode, TokenValue().Replace(await response.Content.ReadAsStringAsync(), "value=\"(token)\""));
    }

    [GeneratedRegex("value=\"CfDJ8[^\"]*\"")]
    private static partial Regex TokenValue();
}
