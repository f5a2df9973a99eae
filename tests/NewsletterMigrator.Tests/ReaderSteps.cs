using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>A reader's steps through the real pages, for the tests of readers' rights.</summary>
public static class ReaderSteps
{
    public static HttpClient Reader(this WebApplicationFactory<Program> app) =>
        app is AppFactory { Port: > 0 } real ? real.RealBrowser() : app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>Signs up on <paramref name="path"/> (general or invitation page) and confirms through the DOI mail.</summary>
    public static async Task<HttpClient> ConfirmedReaderAsync(this WebApplicationFactory<Program> app, TestSmtpServer smtp, string path, string email)
    {
        var before = smtp.Messages.Count;
        var reader = await app.SignUpAsync(path, email);
        var doi = await smtp.WaitForAsync(m => smtp.Messages.Skip(before).Contains(m)
            && m.To.Mailboxes.Any(b => string.Equals(b.Address, email, StringComparison.OrdinalIgnoreCase)) && m.Subject?.Contains("bestätigen") == true);
        var confirm = new Uri(Html.Links(doi.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;
        var page = await reader.GetStringAsync(confirm);
        await reader.PostFormAsync(confirm, page, []);
        return reader;
    }

    public static async Task<HttpClient> SignUpAsync(this WebApplicationFactory<Program> app, string path, string email)
    {
        var reader = app.Reader();
        var page = await reader.GetStringAsync(path);
        var response = await reader.PostFormAsync(path, page, TestData.SignUpForm(page, email));
        response.EnsureSuccessStatusCode();
        return reader;
    }

    /// <summary>Sends a campaign to all confirmed subscribers and returns the mail that reached <paramref name="email"/>.</summary>
    public static async Task<MimeMessage> NewsletterMailAsync(this WebApplicationFactory<Program> app, TestSmtpServer smtp, Newsletter newsletter, string email, string subject)
    {
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
            var id = (await campaigns.SaveDraftAsync(newsletter.Id, null, subject, "", "Text der Ausgabe", "test"))!.Value;
            await campaigns.StartAsync(newsletter.Id, id, "test");
        }
        return await smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, email, StringComparison.OrdinalIgnoreCase)) && m.Subject == subject);
    }

    public static string PathOf(MimeMessage mail, string segment) =>
        new Uri(Html.Links(mail.HtmlBody).First(l => l.Contains(segment))).AbsolutePath;

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}

/// <summary>A clock the test moves by hand: the one foreign-time stand-in the retention tests need.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
}
