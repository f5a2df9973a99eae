using NewsletterMigrator.Feeds;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The three formats a portal's CMS publishes, served over HTTP as the CMS would and read into entries: key (guid or
/// link), title, absolute link, plain-text teaser, image, categories and the date in UTC, in document order.
/// </summary>
public sealed class FeedFormatTests
{
    [Fact]
    public async Task An_rss_feed_of_a_german_portal_reads_with_its_categories_images_teasers_and_utc_dates()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/rss/eilmeldungen.xml", FeedSteps.Sample("portal-rss.xml"), "application/rss+xml; charset=utf-8");

        var feed = await FeedSteps.Fetcher().FetchedAsync(server.Url("/rss/eilmeldungen.xml"));

        Assert.Equal("Lahntal-Bote – Nachrichten", feed.FeedTitle);
        // Six items: the repeated guid and the item without guid and link are left out; the rest keep document order.
        Assert.Equal(["lahntal-bote-article-100234", "lahntal-bote-article-100230",
            "https://www.lahntal-bote.example/wetter/sturmboeen-100228.html", "https://www.lahntal-bote.example/meinung/leserbriefe-kw10.html"],
            feed.Entries.Select(e => e.Key));

        var breaking = feed.Entries[0];
        Assert.Equal("Eilmeldung: B3 bei Cölbe nach Unfall voll gesperrt", breaking.Title);
        Assert.Equal("https://www.lahntal-bote.example/lokales/b3-coelbe-gesperrt-100234.html", breaking.Link);
        Assert.Equal(["Eilmeldung", "Verkehr"], breaking.Categories);
        Assert.Equal("https://cdn.lahntal-bote.example/img/100234-1200.jpg", breaking.ImageUrl); // media:content
        Assert.Equal("Nach einem schweren Unfall ist die B3 zwischen Cölbe und Marburg-Nord in beide Richtungen gesperrt. Die Polizei bittet, den Bereich weiträumig zu umfahren.",
            breaking.Summary);
        Assert.Equal(new DateTime(2026, 3, 3, 13, 5, 0, DateTimeKind.Utc), breaking.PublishedUtc);
        Assert.Equal(DateTimeKind.Utc, breaking.PublishedUtc!.Value.Kind);

        var budget = feed.Entries[1];
        Assert.Equal("Stadtverordnete beschließen Haushalt 2026 & neue Kita", budget.Title);
        // A relative link is resolved against the feed's address.
        Assert.Equal(server.Url("/politik/haushalt-2026-beschlossen-100230.html").AbsoluteUri, budget.Link);
        Assert.Equal("https://cdn.lahntal-bote.example/img/100230-800.jpg", budget.ImageUrl); // enclosure
        // The long description is cut on a word near 300 characters and says so.
        Assert.InRange(budget.Summary!.Length, 250, FeedText.TeaserLength + 1);
        Assert.EndsWith("…", budget.Summary);
        Assert.StartsWith("Mit knapper Mehrheit hat das Stadtparlament", budget.Summary);
        Assert.DoesNotContain("<p>", budget.Summary);
        Assert.Matches(@"\p{L}…$", budget.Summary);

        // guid with isPermaLink (the default) is both key and link.
        var weather = feed.Entries[2];
        Assert.Equal(weather.Key, weather.Link);
        Assert.Equal(["Eilmeldung", "Wetter"], weather.Categories);
        Assert.Null(weather.ImageUrl);
        Assert.Equal(new DateTime(2026, 3, 3, 8, 0, 0, DateTimeKind.Utc), weather.PublishedUtc);

        // No guid: the link is the key.
        var letters = feed.Entries[3];
        Assert.Equal(letters.Link, letters.Key);
        Assert.Equal(new DateTime(2026, 3, 2, 17, 0, 0, DateTimeKind.Utc), letters.PublishedUtc);
    }

    [Fact]
    public async Task An_atom_feed_reads_with_xml_base_links_html_titles_category_labels_and_enclosure_images()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/feed.atom", FeedSteps.Sample("newsroom-atom.xml"), "application/atom+xml");

        var feed = await FeedSteps.Fetcher().FetchedAsync(server.Url("/feed.atom"));

        Assert.Equal("Oberhessen live", feed.FeedTitle);
        Assert.Equal(2, feed.Entries.Count);
        var fire = feed.Entries[0];
        Assert.Equal("tag:oberhessen-live.example,2026:article-5521", fire.Key);
        Assert.Equal("Feuerwehr löscht Scheunenbrand in Lauterbach", fire.Title); // type="html": entities decoded
        Assert.Equal("https://www.oberhessen-live.example/blaulicht/scheunenbrand-lauterbach-5521", fire.Link); // against xml:base
        Assert.Equal("https://img.oberhessen-live.example/5521.webp", fire.ImageUrl);
        Assert.Equal(["blaulicht", "Eilmeldung"], fire.Categories); // term and label differ only in case: one category
        Assert.Equal("Rund 60 Einsatzkräfte waren am Dienstagmittag im Einsatz. Verletzt wurde niemand.", fire.Summary);
        Assert.Equal(new DateTime(2026, 3, 3, 12, 40, 0, DateTimeKind.Utc), fire.PublishedUtc); // published, not updated

        var council = feed.Entries[1];
        Assert.Equal("Kreistag tagt am Donnerstag", council.Title);
        Assert.Equal("https://www.oberhessen-live.example/politik/kreistag-5519", council.Link);
        Assert.Equal("Auf der Tagesordnung stehen der Schulentwicklungsplan und die Kreisumlage.", council.Summary); // xhtml content
        Assert.Equal(new DateTime(2026, 3, 2, 9, 15, 0, DateTimeKind.Utc), council.PublishedUtc); // only updated given
    }

    [Fact]
    public async Task A_json_feed_reads_with_tags_images_relative_urls_numeric_ids_and_the_first_of_two_equal_ids()
    {
        await using var server = await TestFeedServer.StartAsync();
        server.Serve("/feed.json", FeedSteps.Sample("podcast-jsonfeed.json"), "application/feed+json");

        var feed = await FeedSteps.Fetcher().FetchedAsync(server.Url("/feed.json"));

        Assert.Equal("Wetzlarer Stadtgespräch", feed.FeedTitle);
        Assert.Equal(["https://www.stadtgespraech-wetzlar.example/2026/03/03/dom-sanierung", "4711", "4690"], feed.Entries.Select(e => e.Key));
        var dome = feed.Entries[0];
        Assert.Equal("Domsanierung: Gerüst bleibt bis Herbst", dome.Title);
        Assert.Equal("Die Arbeiten am Westturm dauern länger als geplant.", dome.Summary);
        Assert.Equal("https://www.stadtgespraech-wetzlar.example/media/dom-geruest.jpg", dome.ImageUrl);
        Assert.Equal(["Eilmeldung", "Stadt"], dome.Categories);
        Assert.Equal(new DateTime(2026, 3, 3, 9, 0, 0, DateTimeKind.Utc), dome.PublishedUtc);

        var fest = feed.Entries[1];
        Assert.Equal("Bürgerfest: Programm steht", fest.Title); // the first of the two items with id 4711
        Assert.Equal(server.Url("/2026/03/02/buergerfest").AbsoluteUri, fest.Link);
        Assert.StartsWith("Drei Bühnen, zwei Tage", fest.Summary);

        var parking = feed.Entries[2];
        Assert.Null(parking.Link);
        Assert.Equal("Wann öffnet das neue Parkhaus?", parking.Summary);
        Assert.Empty(parking.Categories);
    }

    [Fact]
    public void A_json_feed_1_0_reads_like_1_1()
    {
        var json = """{"version":"https://jsonfeed.org/version/1","title":"Alt","items":[{"id":"a1","url":"https://portal.example/a1","content_text":"Text","date_published":"2026-03-03T10:00:00+01:00"}]}""";

        var feed = Assert.IsType<FetchResult.Fetched>(FeedParser.Parse(System.Text.Encoding.UTF8.GetBytes(json), new Uri("https://portal.example/feed.json")));

        var entry = Assert.Single(feed.Entries);
        Assert.Equal("a1", entry.Key);
        Assert.Equal("Text", entry.Title); // no title: the teaser stands in
        Assert.Equal(new DateTime(2026, 3, 3, 9, 0, 0, DateTimeKind.Utc), entry.PublishedUtc);
    }

    [Theory]
    [InlineData("Tue, 03 Mar 2026 14:05:00 CEST", "2026-03-03T12:05:00Z")]
    [InlineData("Di, 03 Mär 2026 14:05:00 +0100", "2026-03-03T13:05:00Z")]
    [InlineData("2026-03-03T14:05:00+01:00", "2026-03-03T13:05:00Z")]
    [InlineData("3 Mar 2026 14:05 GMT", "2026-03-03T14:05:00Z")]
    [InlineData("gestern", null)]
    public void Rss_dates_in_the_shapes_cms_templates_write_are_read_and_an_unreadable_one_loses_only_the_date(string pubDate, string? expectedUtc)
    {
        var rss = $"<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><link>https://portal.example/x</link><pubDate>{pubDate}</pubDate></item></channel></rss>";

        var feed = Assert.IsType<FetchResult.Fetched>(FeedParser.Parse(System.Text.Encoding.UTF8.GetBytes(rss), new Uri("https://portal.example/rss")));

        var entry = Assert.Single(feed.Entries);
        Assert.Equal(expectedUtc is null ? null : DateTime.Parse(expectedUtc, null, System.Globalization.DateTimeStyles.AdjustToUniversal), entry.PublishedUtc);
    }

    [Fact]
    public void Links_and_images_that_are_not_http_never_reach_an_entry()
    {
        var rss = """
            <rss version="2.0"><channel><title>t</title>
              <item><title>x</title><guid isPermaLink="false">g1</guid><link>javascript:alert(1)</link>
                <description><![CDATA[<img src="data:image/png;base64,AAAA"> Text]]></description></item>
            </channel></rss>
            """;

        var feed = Assert.IsType<FetchResult.Fetched>(FeedParser.Parse(System.Text.Encoding.UTF8.GetBytes(rss), new Uri("https://portal.example/rss")));

        var entry = Assert.Single(feed.Entries);
        Assert.Null(entry.Link);
        Assert.Null(entry.ImageUrl);
        Assert.Equal("Text", entry.Summary);
    }

    [Theory]
    [InlineData(" version=\"0.91\"")]
    [InlineData(" version=\"0.92\"")]
    [InlineData("")]
    public void An_older_rss_version_or_one_without_version_attribute_reads_like_rss_2(string version)
    {
        var rss = $"<rss{version}><channel><title>t</title><item><title>Alt</title><link>https://portal.example/alt</link><category>Eilmeldung</category></item></channel></rss>";

        var feed = Assert.IsType<FetchResult.Fetched>(FeedParser.Parse(System.Text.Encoding.UTF8.GetBytes(rss), new Uri("https://portal.example/rss")));

        var entry = Assert.Single(feed.Entries);
        Assert.Equal("Alt", entry.Title);
        Assert.Equal(["Eilmeldung"], entry.Categories);
    }
}
