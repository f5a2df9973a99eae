using System.Net;
using System.ServiceModel.Syndication;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Archive;

/// <summary>
/// Issue 21, the public archive: a sent issue as a web page without any personal link, the list and the RSS feed of a public
/// archive, noindex unless the newsletter opts in, and 404 for everything the archive does not show.
/// </summary>
public sealed class ArchivePagesTests
{
    [Fact]
    public async Task A_sent_issue_is_a_web_page_with_its_body_and_no_token_or_personal_link_on_any_archive_page_or_in_the_feed_C29()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var (campaign, mail) = await app.SentIssueAsync(newsletter);
        var tokens = ArchiveTestData.PersonalTokens(mail);
        var reader = app.ReaderClient();

        var path = ArchiveTestData.IssuePath(newsletter, campaign);
        var issue = await reader.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, issue.StatusCode);
        var html = await issue.Content.ReadAsStringAsync();
        Assert.Contains("<h1 class=\"h4\">Hochwasser: Pegel steigt weiter</h1>", html);
        Assert.Contains("Der Pegel steigt <strong>weiter</strong>.", html);
        Assert.Contains("src=\"https://tagblatt.example.test/bilder/pegel.jpg\"", html);
        Assert.Contains("brand-header", html); // the reader pages' frame
        Assert.Contains("Tagblatt Eilmeldungen", html);
        Assert.Contains("href=\"/n/eilmeldungen\"", html); // sign up
        Assert.Contains("href=\"/n/eilmeldungen/impressum\"", html); // the reader footer (C39)
        Assert.Contains("https://tagblatt.example.test/datenschutz", html);
        Assert.Contains(Common.Berlin.ToLocal(campaign.StartedAtUtc!.Value).ToString("yyyy-MM-dd"), html);
        // The portal's pictures load: images from https, everything else as the house policy says.
        var csp = issue.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("img-src 'self' data: https:", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("public, max-age=300", issue.Headers.CacheControl!.ToString());
        ArchiveTestData.AssertNoToken(html, tokens, "The issue page");

        var list = await reader.GetAsync("/n/eilmeldungen/archive");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var listHtml = await list.Content.ReadAsStringAsync();
        Assert.Contains($"href=\"{path}\"", listHtml);
        ArchiveTestData.AssertNoToken(listHtml, tokens, "The archive list");

        var feed = await reader.GetAsync("/n/eilmeldungen/archive/feed.xml");
        Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
        Assert.Equal("application/rss+xml", feed.Content.Headers.ContentType!.MediaType);
        var xml = await feed.Content.ReadAsStringAsync();
        ArchiveTestData.AssertNoToken(xml, tokens, "The feed");
    }

    [Fact]
    public async Task The_feed_is_rss_with_absolute_links_from_the_public_base_url_never_the_host_header_C29()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var (first, _) = await app.SentIssueAsync(newsletter, "Erste Ausgabe", "Der erste Text.");
        var (second, _) = await app.SentIssueAsync(newsletter, "Zweite Ausgabe", "Der **zweite** Text.");

        var reader = app.ReaderClient();
        reader.DefaultRequestHeaders.Host = "evil.example.test";
        var response = await reader.GetAsync("/n/eilmeldungen/archive/feed.xml");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var xml = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("evil.example.test", xml);

        var feed = SyndicationFeed.Load(XmlReader.Create(new StringReader(xml)));
        Assert.Equal("Tagblatt Eilmeldungen", feed.Title.Text);
        Assert.Equal(["Zweite Ausgabe", "Erste Ausgabe"], feed.Items.Select(i => i.Title.Text)); // newest first
        var item = feed.Items.First();
        var url = $"http://localhost/n/eilmeldungen/archive/{second.ArchiveSlug}";
        Assert.Equal(url, item.Id); // the guid
        Assert.Equal(url, item.Links.Single().Uri.ToString());
        Assert.Equal("Kurz vorab", item.Summary.Text); // the preheader
        Assert.Equal(second.StartedAtUtc!.Value, item.PublishDate.UtcDateTime, TimeSpan.FromSeconds(1));
        var encoded = item.ElementExtensions.Single(e => e.OuterName == "encoded" && e.OuterNamespace == "http://purl.org/rss/1.0/modules/content/");
        Assert.Contains("<strong>zweite</strong>", encoded.GetObject<XElement>().Value);
        // The list links the same addresses, relative to the page.
        var listHtml = await app.ReaderClient().GetStringAsync("/n/eilmeldungen/archive");
        Assert.True(listHtml.IndexOf($"/archive/{second.ArchiveSlug}\"", StringComparison.Ordinal) < listHtml.IndexOf($"/archive/{first.ArchiveSlug}\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_archive_answer_says_noindex_until_a_public_archive_opts_in()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var (campaign, _) = await app.SentIssueAsync(newsletter);
        var paths = new[] { ArchiveTestData.IssuePath(newsletter, campaign), "/n/eilmeldungen/archive", "/n/eilmeldungen/archive/feed.xml" };
        var reader = app.ReaderClient();

        foreach (var path in paths)
        {
            var response = await reader.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("noindex", response.Headers.GetValues("X-Robots-Tag").Single());
            if (!path.EndsWith(".xml")) Assert.Contains("<meta name=\"robots\" content=\"noindex\" />", await response.Content.ReadAsStringAsync());
        }

        await app.SetArchiveAsync(newsletter, ArchiveMode.Public, indexable: true);
        foreach (var path in paths)
        {
            var response = await reader.GetAsync(path);
            Assert.False(response.Headers.Contains("X-Robots-Tag"), path);
            Assert.DoesNotContain("noindex", await response.Content.ReadAsStringAsync());
        }
        // Other reader pages keep theirs.
        Assert.Contains("<meta name=\"robots\" content=\"noindex\" />", await reader.GetStringAsync("/n/eilmeldungen"));

        // Unlisted: the opt-in counts only for a public archive.
        await app.SetArchiveAsync(newsletter, ArchiveMode.Unlisted, indexable: true);
        var unlisted = await reader.GetAsync(paths[0]);
        Assert.Equal("noindex", unlisted.Headers.GetValues("X-Robots-Tag").Single());
        Assert.Contains("<meta name=\"robots\" content=\"noindex\" />", await unlisted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Unlisted_shows_each_issue_but_no_list_or_feed_and_off_shows_nothing()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Unlisted);
        var (campaign, _) = await app.SentIssueAsync(newsletter);
        var issue = ArchiveTestData.IssuePath(newsletter, campaign);
        var reader = app.ReaderClient();

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(issue)).StatusCode);
        Assert.DoesNotContain("/n/eilmeldungen/archive\"", await reader.GetStringAsync(issue)); // no link to a list that is not there
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/n/eilmeldungen/archive")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/n/eilmeldungen/archive/feed.xml")).StatusCode);

        await app.SetArchiveAsync(newsletter, ArchiveMode.Off);
        foreach (var path in new[] { issue, "/n/eilmeldungen/archive", "/n/eilmeldungen/archive/feed.xml" })
        {
            var response = await reader.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("noindex", response.Headers.GetValues("X-Robots-Tag").Single());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/n/gibtsnicht/archive")).StatusCode);
    }

    [Fact]
    public async Task A_draft_a_scheduled_campaign_a_test_mail_and_a_cancelled_campaign_are_not_in_the_archive()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Public);
        var reader = app.ReaderClient();
        var today = ArchiveSlugs.Stem("x", DateTime.UtcNow)[..10];

        // A draft with a test mail: the test mail went out, the draft has no archive address.
        var draft = await app.CampaignAsync(newsletter, "Entwurf mit Testmail", start: false);
        await app.StaffAsync("redaktion@example.test", "correct horse battery", "Admin");
        await app.WithCampaignsAsync(c => c.SendTestAsync(newsletter.Id, draft, ["redaktion@example.test"], "redaktion@example.test"));
        await app.Smtp.WaitForAsync("redaktion@example.test", "Entwurf mit Testmail");
        var scheduled = await app.CampaignAsync(newsletter, "Geplante Ausgabe", start: false);
        await app.WithCampaignsAsync(c => c.ScheduleAsync(newsletter.Id, scheduled, DateTime.UtcNow.AddDays(1), "redaktion@example.test"));
        foreach (var id in new[] { draft, scheduled }) Assert.Null((await app.CampaignRowAsync(id)).ArchiveSlug);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/n/eilmeldungen/archive/{today}-entwurf-mit-testmail")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/n/eilmeldungen/archive/{today}-geplante-ausgabe")).StatusCode);

        // Cancelled while it was sending (the SMTP server is down, so it cannot finish first): it had an address, now 404.
        await app.Smtp.StopAsync();
        var cancelled = await app.CampaignAsync(newsletter, "Abgebrochene Ausgabe");
        var slug = (await app.CampaignRowAsync(cancelled)).ArchiveSlug;
        Assert.Equal($"{today}-abgebrochene-ausgabe", slug);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/n/eilmeldungen/archive/{slug}")).StatusCode);
        await app.WithCampaignsAsync(c => c.CancelAsync(newsletter.Id, cancelled, "redaktion@example.test"));
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/n/eilmeldungen/archive/{slug}")).StatusCode);

        var list = await reader.GetStringAsync("/n/eilmeldungen/archive");
        Assert.Contains("Noch keine Ausgaben.", list);
        Assert.Empty(SyndicationFeed.Load(XmlReader.Create(new StringReader(await reader.GetStringAsync("/n/eilmeldungen/archive/feed.xml")))).Items);
    }

    [Fact]
    public async Task The_latest_issues_and_an_issues_public_address_follow_the_archive_setting()
    {
        await using var app = new AppFactory();
        var newsletter = await app.ArchivedNewsletterAsync(ArchiveMode.Unlisted);
        var (first, _) = await app.SentIssueAsync(newsletter, "Erste Ausgabe", "Eins.");
        var (second, _) = await app.SentIssueAsync(newsletter, "Zweite Ausgabe", "Zwei.");
        var options = app.Service<Microsoft.Extensions.Options.IOptions<Common.AppOptions>>().Value;

        async Task<IReadOnlyList<ArchivedIssue>> LatestAsync(int count)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var current = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Newsletters.FindAsync(newsletter.Id);
            return await scope.ServiceProvider.GetRequiredService<ILatestIssues>().LatestAsync(current!, count);
        }

        var latest = await LatestAsync(5);
        Assert.Equal(["Zweite Ausgabe", "Erste Ausgabe"], latest.Select(i => i.Subject));
        Assert.Equal($"http://localhost/n/eilmeldungen/archive/{second.ArchiveSlug}", latest[0].Url);
        newsletter.Archive = ArchiveMode.Unlisted; // as stored by SetArchiveAsync
        Assert.Equal(latest[0].Url, options.Link(ArchiveAddress.PublicIssuePath(newsletter, second)!));
        Assert.Single(await LatestAsync(1));

        await app.SetArchiveAsync(newsletter, ArchiveMode.Off);
        Assert.Empty(await LatestAsync(5));
        newsletter.Archive = ArchiveMode.Off;
        Assert.Null(ArchiveAddress.PublicIssuePath(newsletter, first));
    }
}
