using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Welcome;

/// <summary>The welcome mail's steps through the app's own services and pages (issue 21).</summary>
public static class WelcomeSteps
{
    public const string GermanText = "Schön, dass Sie dabei sind! Jeden Morgen lesen Sie hier **das Wichtigste** aus der Region.\n\n<script>alert(1)</script>\n\n[Unser Archiv](https://tagblatt.example.test/archiv)";
    public const string EnglishText = "Good to have you with us! Every morning you get **the essentials** from the region.";

    /// <summary>Switches the welcome on (or saves its texts) as an admin would on the settings page.</summary>
    public static async Task WelcomeAsync(this AppFactory app, Newsletter newsletter, bool enabled = true, string markdown = GermanText,
        string markdownEn = "", string subject = "", string subjectEn = "", int latestIssues = 0)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var refusal = await scope.ServiceProvider.GetRequiredService<WelcomeSettings>()
            .SaveAsync(newsletter.Id, new WelcomeChange(enabled, subject, subjectEn, markdown, markdownEn, latestIssues), "admin@example.test");
        Assert.Equal(WelcomeRefusal.None, refusal);
    }

    /// <summary>Signs up on the newsletter's page in <paramref name="language"/> and waits for the DOI mail that arrives after now.</summary>
    public static async Task<(HttpClient Reader, MimeMessage Doi)> SignUpWithDoiAsync(this AppFactory app, string email, string? language = null)
    {
        var before = app.Smtp.Messages.Count;
        var reader = app.ReaderClient(language);
        var response = await reader.SignUpAsync(email);
        response.EnsureSuccessStatusCode();
        var doi = await app.Smtp.WaitForAsync(m => app.Smtp.Messages.Skip(before).Contains(m) && IsTo(m, email)
            && Html.Links(m.HtmlBody).Any(l => l.Contains("/confirm/")));
        return (reader, doi);
    }

    /// <summary>Presses the button on the page the DOI link opens (C9); returns the page's answer.</summary>
    public static async Task<string> ConfirmAsync(HttpClient reader, MimeMessage doi)
    {
        var path = ReaderSteps.PathOf(doi, "/confirm/");
        var page = await reader.GetStringAsync(path);
        return await (await reader.PostFormAsync(path, page, [])).Content.ReadAsStringAsync();
    }

    public static async Task<(HttpClient Reader, MimeMessage Doi)> ConfirmedWithDoiAsync(this AppFactory app, string email, string? language = null)
    {
        var (reader, doi) = await app.SignUpWithDoiAsync(email, language);
        await ConfirmAsync(reader, doi);
        return (reader, doi);
    }

    public static bool IsTo(MimeMessage mail, string email) =>
        mail.To.Mailboxes.Any(b => string.Equals(b.Address, email, StringComparison.OrdinalIgnoreCase));

    /// <summary>The welcome mails the server accepted for <paramref name="email"/>, told apart by the Message-IDs of the outbox's welcome rows.</summary>
    public static async Task<List<MimeMessage>> WelcomesToAsync(this AppFactory app, string email)
    {
        var ids = await app.WithDbAsync(db => db.OutboundMessages.Where(m => m.Kind == MessageKind.Welcome).Select(m => m.MessageId).ToListAsync());
        return app.Smtp.Messages.Where(m => IsTo(m, email) && m.MessageId is { } id && ids.Contains(id)).ToList();
    }

    public static Task<List<OutboundMessage>> WelcomeRowsAsync(this AppFactory app) =>
        app.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Where(m => m.Kind == MessageKind.Welcome).OrderBy(m => m.Id).ToListAsync());

    /// <summary>The reader's own one-click unsubscribe (RFC 8058), with the link its mails carry, derived as the app derives it.</summary>
    public static async Task UnsubscribeOneClickAsync(this AppFactory app, string email)
    {
        var subscriber = await app.WithDbAsync(db => db.Subscribers.AsNoTracking().SingleAsync(s => s.EmailKey == EmailAddress.Key(email)));
        var token = app.Service<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
        await app.OneClickAsync($"/u/{token}");
    }

    /// <summary>The POST a mailbox provider sends for a one-click unsubscribe (RFC 8058) to <paramref name="path"/>; it must be answered 200.</summary>
    public static async Task OneClickAsync(this AppFactory app, string path)
    {
        using var provider = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var response = await provider.PostAsync(path, new StringContent("List-Unsubscribe=One-Click", System.Text.Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
