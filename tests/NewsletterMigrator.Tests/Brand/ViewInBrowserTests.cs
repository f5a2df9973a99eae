using AngleSharp.Html.Parser;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Archive;
using NewsletterMigrator.Tests.Welcome;

namespace NewsletterMigrator.Tests.Brand;

/// <summary>
/// Where the brand, the archive and the welcome meet (issue 21): each mail of an archived issue links its public copy,
/// which holds no personal link; a newsletter without an archive has no such link; the welcome mail lists the latest issues.
/// </summary>
public sealed class ViewInBrowserTests
{
    [Fact]
    public async Task Each_mail_of_an_archived_issue_links_its_public_copy_which_holds_none_of_the_readers_links()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Unlisted);
        var (campaign, mail) = await app.SentIssueAsync(newsletter);

        var copy = app.Service<IOptions<AppOptions>>().Value.Link(ArchiveTestData.IssuePath(newsletter, campaign));
        var link = new HtmlParser().ParseDocument(mail.HtmlBody!).QuerySelector("td.browser-link a");
        Assert.Equal(("Im Browser ansehen", copy), (link?.TextContent, link?.GetAttribute("href")));
        Assert.StartsWith($"Im Browser ansehen: {copy}", mail.TextBody);

        var page = await app.CreateClient().GetStringAsync(new Uri(copy).AbsolutePath);
        Assert.Contains("Der Pegel steigt <strong>weiter</strong>.", page);
        var unsubscribe = ReaderSteps.PathOf(mail, "/u/");
        Assert.DoesNotContain(unsubscribe.Split('/').Last(), page);
    }

    [Fact]
    public async Task Without_an_archive_a_mail_has_no_view_in_browser_link()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Off);
        var (_, mail) = await app.SentIssueAsync(newsletter);
        Assert.DoesNotContain("Im Browser ansehen", mail.HtmlBody);
        Assert.DoesNotContain("Im Browser ansehen", mail.TextBody);
        Assert.DoesNotContain("/archive/", mail.HtmlBody);
    }

    [Fact]
    public async Task The_welcome_mail_lists_the_latest_issues_of_the_archive_in_the_newsletters_layout()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var (campaign, _) = await app.SentIssueAsync(newsletter);
        await app.WelcomeAsync(newsletter, latestIssues: 3);

        await app.ConfirmedWithDoiAsync("neu@example.test");
        await app.Smtp.WaitForAsync("neu@example.test", "Willkommen", TimeSpan.FromSeconds(30));
        var welcome = Assert.Single(await app.WelcomesToAsync("neu@example.test"));

        var copy = app.Service<IOptions<AppOptions>>().Value.Link(ArchiveTestData.IssuePath(newsletter, campaign));
        var document = new HtmlParser().ParseDocument(welcome.HtmlBody!);
        var issue = document.QuerySelectorAll(".content li a").Single(a => a.TextContent == ArchiveTestData.Subject);
        Assert.Equal(copy, issue.GetAttribute("href"));
        Assert.False(string.IsNullOrWhiteSpace(issue.GetAttribute("style"))); // inlined like every mail
        Assert.Contains("Die letzten Ausgaben", document.QuerySelector(".content h2")!.TextContent);
        Assert.Contains(copy, welcome.TextBody);
        Assert.Contains("/u/", welcome.TextBody); // a newsletter mail: its unsubscribe link (C22)
    }
}
