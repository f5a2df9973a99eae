using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>A live newsletter and a reader's links, seeded through the app's own services and pages (issue 17's browser tests).</summary>
internal static class ReaderSeed
{
    public const string Slug = "eilmeldungen";

    /// <summary>The newsletter with the full legal identity (C38) and its generated consent texts in both languages.</summary>
    public static async Task NewsletterAsync(this AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = Slug, Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
        }.Complete(), "test");
    }

    /// <summary>
    /// Signs up as the form posts it; returns the DOI link's path from the sent mail (its GET only shows the button, so it
    /// stays valid) and the reader's unsubscribe path, derived as the mail factory derives it.
    /// </summary>
    public static async Task<(string Confirm, string Unsubscribe)> SignedUpReaderAsync(this AppFactory app, string email)
    {
        using var reader = app.RealBrowser();
        var form = await reader.GetStringAsync("/n/" + Slug);
        (await reader.PostAsync("/n/" + Slug, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Html.AntiforgeryToken(form),
            ["Input.ConsentTextId"] = Html.InputValue(form, "Input.ConsentTextId")!,
            ["Input.Email"] = email, ["Input.Consent"] = "true", ["Input.AgeConfirmed"] = "true",
        }))).EnsureSuccessStatusCode();
        var mail = await app.Smtp.WaitForAsync(email, "bestätigen");
        var confirm = new Uri(Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;
        var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.Email == email));
        return (confirm, "/u/" + app.Service<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration));
    }
}
