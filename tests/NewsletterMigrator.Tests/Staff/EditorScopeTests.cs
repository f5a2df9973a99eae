using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Feeds;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Feeds;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 15, point 1: an editor sees nothing of the newsletters not assigned to them. Walks the app's own endpoint list
/// (like <see cref="HttpMethodTests"/>), so a new page with a <c>{newsletterId}</c> is covered without editing this.
/// </summary>
public sealed class EditorScopeTests : IAsyncLifetime
{
    /// <summary>The feeds' CMS: the feed pages' previews fetch it.</summary>
    private TestFeedServer _cms = null!;

    public async Task InitializeAsync()
    {
        _cms = await TestFeedServer.StartAsync();
        _cms.Serve("/rss", FeedTestData.Rss(new FeedTestData.Story("e-1", "Eilmeldung: Brücke gesperrt")));
    }

    public async Task DisposeAsync() => await _cms.DisposeAsync();

    [Fact]
    public async Task Every_route_of_another_newsletter_answers_404_to_an_editor_for_GET_and_every_POST_handler_and_changes_nothing()
    {
        await using var app = new AppFactory();
        var (mine, other, editor) = await EditorOfFirstAsync(app);
        var routes = ScopedRoutes(app).ToList();
        Assert.Contains(routes, r => r.Path == "/admin/signup/{newsletterId:int}/qr.{format}"); // minimal endpoints too
        Assert.Contains(routes, r => r.Path == "/admin/campaigns/{newsletterId:int}/edit/{id:int?}" && r.Handlers.Contains("Send"));

        // A valid antiforgery token from a page of the editor's own newsletter: a refusal is the scope's, not antiforgery's.
        var ownPage = await editor.GetStringAsync($"/admin/campaigns/{mine.Newsletter.Id}");
        var before = await DatabaseFingerprintAsync(app);
        var failures = new List<string>();
        foreach (var route in routes)
        {
            var url = Fill(route.Path, other);
            var get = await editor.GetAsync(url);
            // Admin-only routes (suppression list, contact export) refuse an editor for every newsletter alike, own or not.
            if (IsDenied(await editor.GetAsync(Fill(route.Path, mine))))
            {
                if (!IsDenied(get)) failures.Add($"GET {url} (admins only) answered {(int)get.StatusCode}");
                continue;
            }
            if (get.StatusCode != HttpStatusCode.NotFound) failures.Add($"GET {url} answered {(int)get.StatusCode}");
            if (!route.Posts) continue;
            foreach (var handler in route.Handlers.DefaultIfEmpty(""))
            {
                var target = handler == "" ? url : $"{url}?handler={handler}";
                var post = await editor.PostFormAsync(target, ownPage, new() { ["Subject"] = "x", ["Reason"] = "x", ["PauseReason"] = "x", ["Value"] = "x" });
                if (post.StatusCode != HttpStatusCode.NotFound) failures.Add($"POST {target} answered {(int)post.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Equal(before, await DatabaseFingerprintAsync(app));

        // The same routes of the editor's own newsletter open (the filter refuses only what is not theirs).
        var opened = 0;
        foreach (var route in routes.Where(r => !r.Path.Contains("{uploadId")))
        {
            var url = Fill(route.Path, mine);
            var get = await editor.GetAsync(url);
            if (IsDenied(get)) continue;
            Assert.True(get.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)get.StatusCode}");
            opened++;
        }
        Assert.True(opened >= 12, $"only {opened} of the editor's own pages opened");
    }

    [Fact]
    public async Task The_dashboard_lists_only_the_editor_s_newsletters_and_an_admin_sees_all()
    {
        await using var app = new AppFactory();
        var (mine, other, editor) = await EditorOfFirstAsync(app);
        var dashboard = await editor.GetStringAsync("/admin");
        Assert.Contains($"/admin/campaigns/{mine.Newsletter.Id}\"", dashboard);
        Assert.DoesNotContain($"/admin/campaigns/{other.Newsletter.Id}\"", dashboard);
        Assert.DoesNotContain("Zweitblatt", dashboard);

        var admin = await app.AdminAsync();
        var all = await admin.GetStringAsync("/admin");
        Assert.Contains("Zweitblatt", all);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/admin/campaigns/{other.Newsletter.Id}")).StatusCode);
    }

    [Fact]
    public async Task A_withdrawal_an_editor_records_ends_every_subscription_without_telling_how_many_exist_elsewhere()
    {
        await using var app = new AppFactory();
        var (_, _, editor) = await EditorOfFirstAsync(app);
        var page = await editor.GetStringAsync("/admin/withdrawals");
        var answer = await (await editor.PostFormAsync("/admin/withdrawals", page, new() { ["Value"] = "leser@example.test", ["Channel"] = "mail" }))
            .Content.ReadAsStringAsync();
        Assert.Contains("Der Widerruf gilt für alle Newsletter", answer);
        Assert.DoesNotContain("Abonnement(s) beendet", answer);
    }

    [Fact]
    public async Task A_number_an_editor_withdraws_is_reported_blocked_alike_whether_or_not_it_was_blocked_before()
    {
        await using var app = new AppFactory();
        var (_, _, editor) = await EditorOfFirstAsync(app);
        var admin = await app.AdminAsync();
        var fields = new Dictionary<string, string> { ["Value"] = "+49 171 555 12 34", ["Channel"] = "phone" };

        // The number objected to elsewhere first: the block list is the installation's.
        var first = await (await admin.PostFormAsync("/admin/withdrawals", await admin.GetStringAsync("/admin/withdrawals"), new(fields))).Content.ReadAsStringAsync();
        Assert.Contains("Nummer gesperrt", first);
        Assert.Contains("Die Nummer war bereits gesperrt", await (await admin.PostFormAsync("/admin/withdrawals",
            await admin.GetStringAsync("/admin/withdrawals"), new(fields))).Content.ReadAsStringAsync());

        var known = await (await editor.PostFormAsync("/admin/withdrawals", await editor.GetStringAsync("/admin/withdrawals"), new(fields))).Content.ReadAsStringAsync();
        var fresh = await (await editor.PostFormAsync("/admin/withdrawals", await editor.GetStringAsync("/admin/withdrawals"),
            new() { ["Value"] = "+49 171 555 98 76", ["Channel"] = "phone" })).Content.ReadAsStringAsync();
        Assert.DoesNotContain("bereits gesperrt", known);
        Assert.Contains("Nummer gesperrt: Sie wird nicht mehr eingeladen", known);
        Assert.Equal(Message(fresh), Message(known));
    }

    /// <summary>The answer's message, the one part of the page that depends on the withdrawal.</summary>
    private static string Message(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "Der Widerruf gilt für alle Newsletter[^<]*").Value is { Length: > 0 } m ? m : html;

    private static bool IsDenied(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.Contains("/account/denied");

    /// <summary>One newsletter's route values: its id, a campaign, an import and a feed of it.</summary>
    private sealed record Owned(Newsletter Newsletter, int CampaignId, int BatchId, int FeedId);

    private async Task<(Owned Mine, Owned Other, HttpClient Editor)> EditorOfFirstAsync(AppFactory app)
    {
        var mine = await OwnedAsync(app, await app.NewsletterAsync("erstes"));
        var other = await OwnedAsync(app, await app.NewsletterAsync("zweites"));
        await app.WithDbAsync(async db =>
        {
            var n = await db.Newsletters.FindAsync(other.Newsletter.Id);
            n!.Name = "Zweitblatt";
            return await db.SaveChangesAsync();
        });
        var editor = await app.EditorAsync();
        var id = await app.UserIdAsync("editor@example.test");
        await app.WithDbAsync(async db =>
        {
            await db.StaffNewsletters.Where(s => s.UserId == id).ExecuteDeleteAsync();
            db.StaffNewsletters.Add(new StaffNewsletter { UserId = id, NewsletterId = mine.Newsletter.Id });
            return await db.SaveChangesAsync();
        });
        return (mine, other, editor);
    }

    private async Task<Owned> OwnedAsync(AppFactory app, Newsletter newsletter)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var campaign = await scope.ServiceProvider.GetRequiredService<CampaignService>()
            .SaveDraftAsync(newsletter.Id, null, "Betreff", "", "Text", "test");
        var batch = await app.ImportAsync(newsletter, "kontakte.csv", ("+4915112345678", "Erika"));
        // Paused, so nothing polls it (the fingerprint stays still); the preview pages fetch the CMS on demand.
        var feed = await app.AddFeedAsync(newsletter, _cms.Url("/rss"), new FeedSettings("", FeedMode.Breaking, AutoSend: false, Category: null, Enabled: false));
        return new Owned(newsletter, campaign!.Value, batch, feed);
    }

    private sealed record ScopedRoute(string Path, bool Posts, IReadOnlyList<string> Handlers);

    /// <summary>Every endpoint whose route names a newsletter, with its POST handlers' names.</summary>
    private static IEnumerable<ScopedRoute> ScopedRoutes(AppFactory app) =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.GetParameter(NewsletterScopeMiddleware.RouteValue) is not null)
            .GroupBy(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .Select(g => new ScopedRoute(g.Key,
                g.Any(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("POST") == true),
                [.. g.SelectMany(e => e.Metadata.OfType<CompiledPageActionDescriptor>()).SelectMany(d => d.HandlerMethods)
                    .Where(h => string.Equals(h.HttpMethod, "POST", StringComparison.OrdinalIgnoreCase) && h.Name is not null).Select(h => h.Name!).Distinct()]));

    private static string Fill(string path, Owned owned)
    {
        var pattern = RoutePatternFactory.Parse(path);
        return "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart { Name: "newsletterId" } => owned.Newsletter.Id.ToString(),
            RoutePatternParameterPart { Name: "id" } => owned.CampaignId.ToString(),
            RoutePatternParameterPart { Name: "batchId" } => owned.BatchId.ToString(),
            RoutePatternParameterPart { Name: "feedId" } => owned.FeedId.ToString(),
            RoutePatternParameterPart { Name: "uploadId" } => Guid.NewGuid().ToString(),
            RoutePatternParameterPart { Name: "format" } => "svg",
            RoutePatternParameterPart p => throw new InvalidOperationException($"EditorScopeTests needs a value for the route parameter '{p.Name}' in {path}."),
            _ => throw new InvalidOperationException($"Unknown route part in {path}"),
        }))));
    }

    /// <summary>A hash of every row of every table, to show that the refused requests wrote nothing.</summary>
    private static async Task<string> DatabaseFingerprintAsync(AppFactory app)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataDirectory, "test.db")};Pooling=False");
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var text = new StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = connection.CreateCommand();
            rows.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await rows.ExecuteReaderAsync();
            text.Append(table).Append('\n');
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++) text.Append(reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i) is byte[] b ? Convert.ToHexString(b) : reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append('|');
                text.Append('\n');
            }
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
