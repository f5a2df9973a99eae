using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Archive;

/// <summary>Sent issues made through the app (sign-up, DOI, campaign start, delivery to the loopback SMTP server), and what the archive tests look for.</summary>
public static partial class ArchiveTestData
{
    public const string Reader = "leserin@example.test";
    public const string Subject = "Hochwasser: Pegel steigt weiter";
    public const string Body = "Der Pegel steigt **weiter**.\n\n![Pegel am Mittag](https://tagblatt.example.test/bilder/pegel.jpg)\n\nMehr auf [tagblatt.example.test](https://tagblatt.example.test/hochwasser).";

    public static async Task SetArchiveAsync(this AppFactory app, Newsletter newsletter, ArchiveMode mode, bool indexable = false)
    {
        await using var scope = app.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<ArchiveService>().SaveSettingsAsync(newsletter.Id, mode, indexable, "test"));
    }

    /// <summary>A newsletter with one confirmed reader and its archive set as given.</summary>
    public static async Task<Newsletter> ArchivedNewsletterAsync(this AppFactory app, ArchiveMode mode, bool indexable = false)
    {
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Reader);
        await app.SetArchiveAsync(newsletter, mode, indexable);
        return newsletter;
    }

    /// <summary>Starts a campaign, waits until every mail went out, and returns its row and the mail the reader received.</summary>
    public static async Task<(Campaign Campaign, MimeMessage Mail)> SentIssueAsync(this AppFactory app, Newsletter newsletter, string subject = Subject, string body = Body)
    {
        var id = await app.CampaignAsync(newsletter, subject, body);
        var campaign = await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        return (campaign, await app.Smtp.WaitForAsync(Reader, subject));
    }

    public static string IssuePath(Newsletter newsletter, Campaign campaign) => ArchiveAddress.IssuePath(newsletter.Slug, campaign.ArchiveSlug!);

    /// <summary>The reader's own tokens in the mail: every link with a token (unsubscribe, preferences) in its headers and HTML.</summary>
    public static IReadOnlyList<string> PersonalTokens(MimeMessage mail)
    {
        var text = string.Join("\n", mail.Headers.Select(h => h.Value)) + mail.HtmlBody + mail.TextBody;
        var tokens = PersonalLink().Matches(text).Select(m => m.Groups["token"].Value).Distinct().ToList();
        Assert.NotEmpty(tokens); // the mail has its unsubscribe link (C21, C22): the scan has something to look for
        return tokens;
    }

    /// <summary>
    /// Everything in the text shaped like one of our tokens: base64url of 32 bytes, a run of exactly 43 of [A-Za-z0-9_-]
    /// (C29). A static file's fingerprint (reader.css?v=…, the SHA-256 of a public file, the same for everyone) is no token
    /// and is left out; a logo's 64-digit hex hash is a longer run and not matched. Entities and percent-escapes are
    /// decoded first: a token inside an escaped address ("returnUrl=%2Fu%2F…") would otherwise hide in a longer run.
    /// The check is a shape, so the tests choose subjects whose archive address (also [a-z0-9-]) is not 43 characters long.
    /// </summary>
    public static IReadOnlyList<string> TokenShapes(string text) =>
        TokenShape().Matches(Uri.UnescapeDataString(System.Net.WebUtility.HtmlDecode(Fingerprint().Replace(text, ""))))
            .Select(m => m.Value).ToList();

    /// <summary>Asserts that the page or feed carries no token and no link to a page that takes one.</summary>
    public static void AssertNoToken(string text, IEnumerable<string> realTokens, string what)
    {
        Assert.True(TokenShapes(text) is [], $"{what} holds token-shaped strings: {string.Join(", ", TokenShapes(text))}");
        foreach (var token in realTokens) Assert.DoesNotContain(token, text);
        foreach (var route in new[] { "/u/", "/manage", "/confirm/", "/i/" }) Assert.DoesNotContain(route, text);
    }

    [GeneratedRegex("/(u|manage|manage/access|manage/change|confirm|i)/(?<token>[A-Za-z0-9_-]{43})")]
    private static partial Regex PersonalLink();

    [GeneratedRegex("(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")]
    private static partial Regex TokenShape();

    [GeneratedRegex(@"(?<=\.(css|js)\?v=)[A-Za-z0-9_-]+")]
    private static partial Regex Fingerprint();
}
