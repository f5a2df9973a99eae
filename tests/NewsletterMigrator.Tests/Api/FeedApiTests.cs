using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Api;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>A CMS sets up its feeds over HTTP, with the feed pages' rules and messages and the same audit trail.</summary>
public sealed class FeedApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;
    private static string Feeds(string slug = "eilmeldungen") => $"/api/v1/newsletters/{slug}/feeds";

    [Fact]
    public async Task A_feed_is_added_read_changed_and_removed_and_each_change_is_audited()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("cms-feeds", [ApiScopes.FeedsWrite, ApiScopes.FeedsRead]));

        var created = await client.PostJsonAsync(Feeds(), new { url = "https://www.tagblatt.example/rss/eilmeldungen.xml", mode = "breaking", autoSend = true, category = "Eilmeldung", maxPerDay = 3 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var feed = await created.JsonAsync();
        var id = feed.GetProperty("id").GetInt32();
        Assert.Equal($"/api/v1/newsletters/eilmeldungen/feeds/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal("breaking", feed.GetProperty("mode").GetString());
        Assert.True(feed.GetProperty("autoSend").GetBoolean());
        Assert.Equal(3, feed.GetProperty("maxPerDay").GetInt32());
        Assert.Contains((await (await client.GetAsync(Feeds())).JsonAsync()).EnumerateArray(), f => f.GetProperty("id").GetInt32() == id);

        var changed = await client.PutAsJsonAsync($"{Feeds()}/{id}", new { url = "https://www.tagblatt.example/rss/eilmeldungen.xml", mode = "digest", digestAt = "07:30", digestDays = new[] { "wed", "mon" } });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var digest = await (await client.GetAsync($"{Feeds()}/{id}")).JsonAsync();
        Assert.Equal("digest", digest.GetProperty("mode").GetString());
        Assert.Equal("07:30", digest.GetProperty("digestAt").GetString());
        Assert.Equal(["mon", "wed"], digest.GetProperty("digestDays").EnumerateArray().Select(d => d.GetString()));
        Assert.False(digest.GetProperty("autoSend").GetBoolean()); // omitted: the default, drafts wait for approval
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, digest.GetProperty("nextDigestAt").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"{Feeds()}/{id}")).StatusCode);
        await (await client.GetAsync($"{Feeds()}/{id}")).ProblemAsync(404, "not-found");
        var audit = await App.WithDbAsync(db => db.AuditEntries.Where(a => a.UserName == "api:cms-feeds").Select(a => a.Action).ToListAsync());
        Assert.Equal(["feed-add", "feed-change", "feed-remove"], audit);
    }

    [Fact]
    public async Task A_wrong_feed_is_a_validation_problem_naming_each_field_and_nothing_is_stored()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("cms-falsch", [ApiScopes.FeedsWrite]));
        var before = await App.WithDbAsync(db => db.Feeds.CountAsync());

        var noMode = await (await client.PostJsonAsync(Feeds(), new { url = "https://x.example/rss", digestDays = new[] { "montag" } })).ProblemAsync(400, "validation");
        Assert.True(noMode.GetProperty("errors").TryGetProperty("mode", out _));
        Assert.True(noMode.GetProperty("errors").TryGetProperty("digestDays", out _));
        var badUrl = await (await client.PostJsonAsync(Feeds(), new { url = "ftp://x.example/rss", mode = "breaking", maxPerDay = 500 })).ProblemAsync(400, "validation");
        Assert.Equal("Please enter a complete address starting with http:// or https://.", badUrl.GetProperty("errors").GetProperty("url")[0].GetString());
        Assert.Equal("Please enter a number from 1 to 50.", badUrl.GetProperty("errors").GetProperty("maxPerDay")[0].GetString());
        await (await client.PostRawAsync(Feeds(), "{\"url\": ")).ProblemAsync(400, "bad-request");
        Assert.Equal(before, await App.WithDbAsync(db => db.Feeds.CountAsync()));
    }

    [Fact]
    public async Task Feeds_need_their_scope_and_another_newsletters_feeds_are_not_found()
    {
        var reader = App.ApiClient(await App.ApiKeyAsync("cms-lesen", [ApiScopes.FeedsRead]));
        await (await reader.PostJsonAsync(Feeds(), new { url = "https://x.example/rss", mode = "breaking" })).ProblemAsync(403, "missing-scope");
        var campaignsOnly = App.ApiClient(await App.ApiKeyAsync("cms-kampagnen", [ApiScopes.CampaignsWrite]));
        await (await campaignsOnly.GetAsync(Feeds())).ProblemAsync(403, "missing-scope");

        var sportOnly = App.ApiClient(await App.ApiKeyAsync("cms-sport", [ApiScopes.FeedsWrite, ApiScopes.FeedsRead], ["sport"]));
        await (await sportOnly.PostJsonAsync(Feeds(), new { url = "https://x.example/rss", mode = "breaking" })).ProblemAsync(404, "not-found");
        Assert.Equal(HttpStatusCode.Created, (await sportOnly.PostJsonAsync(Feeds("sport"), new { url = "https://sport.example/rss", mode = "breaking" })).StatusCode);
    }
}
