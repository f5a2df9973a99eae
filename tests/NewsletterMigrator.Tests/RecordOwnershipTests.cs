using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Feeds;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 7: a record id in a newsletter's route must be one of that newsletter's records. Newsletter A in
/// the route and a record of newsletter B answers 404, as if the record did not exist, and changes nothing.
/// Every staff member may work on every newsletter (there is no per-newsletter staff scope); what is refused here is
/// mixing B's record into A's route, which would corrupt B's data and put B's record into A's audit trail.
/// </summary>
public sealed partial class RecordOwnershipTests : IAsyncLifetime
{
    private const string Draft = "Entwurf von Lokales";

    private readonly AppFactory _app = new(settings: new()
    {
        // Switched on so the Cloud API's forms reach the services; nothing is queued, so nothing calls this address.
        ["WhatsApp:Enabled"] = "true",
        ["WhatsApp:AccessToken"] = "EAAG-test-token",
        ["WhatsApp:PhoneNumberId"] = "106540352242922",
        ["WhatsApp:TemplateName"] = "newsletter_umzug",
        ["WhatsApp:AppSecret"] = "app-secret",
        ["WhatsApp:VerifyToken"] = "verify-token",
        ["WhatsApp:BaseUrl"] = "http://127.0.0.1:9",
    })
    {
        // The positive controls queue template messages; without the worker they stay queued instead of being retried
        // against the dead address above, which would change the database under a later probe's "nothing changed".
        TestServices = services => services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(WhatsAppWorker))),
    };

    /// <summary>The feeds' CMS: the feed pages' previews fetch it (the feeds themselves are paused, so nothing polls it).</summary>
    private TestFeedServer _cms = null!;

    public async Task InitializeAsync()
    {
        _cms = await TestFeedServer.StartAsync();
        _cms.Serve("/rss", Feeds.FeedTestData.Rss(new Feeds.FeedTestData.Story("r-1", "Eilmeldung: Brücke gesperrt")));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _cms.DisposeAsync();
    }

    /// <summary>One newsletter's records of every kind a route or a form can name.</summary>
    private sealed record Records(Newsletter Newsletter, int Campaign, int Import, Guid Contact, Guid Upload, int Feed)
    {
        public string Value(string kind) => kind switch
        {
            "campaign" => Campaign.ToString(CultureInfo.InvariantCulture),
            "import" => Import.ToString(CultureInfo.InvariantCulture),
            "contact" => Contact.ToString(),
            "upload" => Upload.ToString(),
            "feed" => Feed.ToString(CultureInfo.InvariantCulture),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    /// <param name="number">Makes the phone numbers this newsletter's own: a probe that records a STOP suppresses its number everywhere.</param>
    private async Task<Records> RecordsAsync(string slug, string draft, int number = 0)
    {
        var newsletter = await _app.NewsletterAsync(slug);
        var import = await _app.ImportAsync(newsletter, slug + ".csv", ($"0160 {1111111 + number}", "Anna " + slug), ($"0171 {2222222 + number}", "Ben " + slug));
        var contact = await _app.WithDbAsync(db => db.Contacts.Where(c => c.ImportBatchId == import).OrderBy(c => c.Id).Select(c => c.Id).FirstAsync());
        var campaign = await _app.CampaignAsync(newsletter, draft, start: false);
        using var file = new MemoryStream(Encoding.UTF8.GetBytes("Telefonnummer;Name\r\n0152 33333333;Clara\r\n"));
        var upload = await _app.Service<ImportSpool>().SaveAsync(file, newsletter.Id, slug + "-neu.csv", "test", TestImports.Basis, CancellationToken.None);
        var feed = await _app.AddFeedAsync(newsletter, _cms.Url("/rss"), new NewsletterMigrator.Feeds.FeedSettings("", FeedMode.Breaking, AutoSend: false, Category: null, Enabled: false));
        return new Records(newsletter, campaign, import, contact, upload, feed);
    }

    [Fact]
    public async Task An_editor_cannot_overwrite_another_newsletters_draft_by_changing_the_newsletter_id_in_the_save_url()
    {
        var a = await RecordsAsync("eilmeldungen", "Entwurf von Eilmeldungen");
        var b = await RecordsAsync("lokales", Draft);
        var editor = await _app.EditorAsync();
        var form = await editor.GetStringAsync($"/admin/campaigns/{a.Newsletter.Id}/edit/{a.Campaign}");

        var response = await editor.PostFormAsync($"/admin/campaigns/{a.Newsletter.Id}/edit/{b.Campaign}?handler=Save", form, new()
        {
            ["Input.Subject"] = "Überschrieben", ["Input.Body"] = "Fremder Text",
        });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var draft = await _app.CampaignRowAsync(b.Campaign);
        Assert.Equal((Draft, b.Newsletter.Id), (draft.Subject, draft.NewsletterId));
        Assert.Equal("Die **wichtigste** Nachricht des Tages.", draft.BodyMarkdown);
        Assert.Equal(2, await _app.WithDbAsync(db => db.Campaigns.CountAsync()));
    }

    [Fact]
    public async Task The_campaign_services_find_and_change_a_campaign_only_under_its_own_newsletter()
    {
        var a = await RecordsAsync("eilmeldungen", "Entwurf von Eilmeldungen");
        var b = await RecordsAsync("lokales", Draft);
        var before = await SnapshotAsync();

        await using var scope = _app.Services.CreateAsyncScope();
        var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
        var progress = scope.ServiceProvider.GetRequiredService<CampaignProgress>();
        Assert.Null(await campaigns.FindAsync(a.Newsletter.Id, b.Campaign));
        Assert.Null(await progress.GetAsync(a.Newsletter.Id, b.Campaign));
        Assert.Null(await campaigns.SaveDraftAsync(a.Newsletter.Id, b.Campaign, "Überschrieben", "", "Fremd", "test"));
        Assert.Equal(TestSendOutcome.NotFound, (await campaigns.SendTestAsync(a.Newsletter.Id, b.Campaign, ["admin@example.test"], "test")).Outcome);
        await Assert.ThrowsAsync<InvalidOperationException>(() => campaigns.StartAsync(a.Newsletter.Id, b.Campaign, "test"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => campaigns.ScheduleAsync(a.Newsletter.Id, b.Campaign, DateTime.UtcNow.AddDays(1), "test"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => campaigns.CancelAsync(a.Newsletter.Id, b.Campaign, "test"));

        Assert.Equal(before, await SnapshotAsync());
        Assert.NotNull(await campaigns.FindAsync(b.Newsletter.Id, b.Campaign));
    }

    /// <summary>
    /// The routes come from the app's own endpoint list, and each page's handlers and bound values from its compiled
    /// descriptor, so a new route, handler or form field that carries a record id is walked without editing this test;
    /// a parameter this test does not know fails it until someone says which record it names.
    /// Each probe is sent twice, with every record id filled in: first all of them newsletter A's own, which must be
    /// found and acted on (the positive control: a probe that answers 404 anyway proves nothing), then the same request
    /// with newsletter B's record in the one probed value, which must answer 404 and change nothing. Every probe gets a
    /// newsletter A of its own, so what an earlier probe's own request did (a started import, an objected contact, a
    /// discarded upload) cannot turn a later positive control into a 404.
    /// </summary>
    [Fact]
    public async Task Every_handler_answers_404_to_a_record_of_another_newsletter_and_changes_nothing()
    {
        var b = await RecordsAsync("lokales", Draft);
        await _app.ConfirmedReadersAsync(b.Newsletter, "leserin@example.test");
        // An admin reaches every handler an editor reaches and the admin-only ones besides.
        var admin = await _app.AdminAsync();
        var token = Html.AntiforgeryToken(await admin.GetStringAsync($"/admin/campaigns/{b.Newsletter.Id}/edit/{b.Campaign}"));

        var probes = await ProbesAsync();
        var failures = new List<string>();
        foreach (var (probe, number) in probes.Select((p, i) => (p, i)))
        {
            var a = await RecordsAsync($"probe{number}", "Entwurf " + number, number + 1);
            var before = await SnapshotAsync();
            var own = await admin.SendAsync(probe.Request(a, a, token));
            await QuietAsync();
            var changed = await SnapshotAsync() != before;
            if (own.StatusCode is HttpStatusCode.NotFound || (int)own.StatusCode >= 400)
                failures.Add($"{probe}: with newsletter A's own record it answers {(int)own.StatusCode}, so the probe cannot fail");
            else if (probe.Method == "POST" && !changed && !ChangesNothingOnItsOwn.ContainsKey(probe.Key))
                failures.Add($"{probe}: with newsletter A's own record it answers {(int)own.StatusCode} but changes nothing; say in {nameof(ChangesNothingOnItsOwn)} why");

            before = await SnapshotAsync();
            var foreign = await admin.SendAsync(probe.Request(a, b, token));
            await QuietAsync();
            if (foreign.StatusCode != HttpStatusCode.NotFound) failures.Add($"{probe}: {(int)foreign.StatusCode} {foreign.Headers.Location}");
            else if (await SnapshotAsync() != before) failures.Add($"{probe}: 404, but the database changed");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {probes.Count} probes failed:\n" + string.Join("\n", failures));
        // The walk must have reached the routes the probe found, or it proves nothing.
        Assert.Contains(probes, p => p.Method == "POST" && p.Handler == "Save" && p.Parameter == "id");
        Assert.Contains(probes, p => p.Route.Contains("/batch/") && p.Parameter == "batchId");
        Assert.Contains(probes, p => p.Route.Contains("/preview/{uploadId") && p.Method == "POST");
        Assert.Contains(probes, p => p.Route.StartsWith("/admin/contacts/") && p.Method == "POST" && p.Parameter == "contactId");
        Assert.Contains(probes, p => p.Route.StartsWith("/admin/contacts/") && p.Method == "GET" && p.Parameter == "stop");
        Assert.Contains(probes, p => p.Route.StartsWith("/admin/invitations/") && p.Handler == "Send" && p.Parameter == "Import");
        Assert.Contains(probes, p => p.Route.StartsWith("/admin/whatsapp/") && p.Parameter == "Import");
        Assert.Equal(Draft, (await _app.CampaignRowAsync(b.Campaign)).Subject);
    }

    /// <summary>
    /// POST handlers that find their own record and rightly change nothing with the form every probe sends, each with why.
    /// Every other POST must change the database (or the upload spool) with newsletter A's own record, so its
    /// positive control shows it reached the record rather than stopping at some check in front of it.
    /// </summary>
    private static readonly Dictionary<string, string> ChangesNothingOnItsOwn = new()
    {
        // Newsletter A's campaign is a draft: each of these finds it (a 404 otherwise) and answers that a draft cannot be
        // unscheduled, paused, resumed or cancelled, an answer only a found campaign gets.
        ["POST /admin/campaigns/{newsletterId:int}/edit/{id:int?} Unschedule"] = "a draft is not scheduled",
        // A's campaign is an editor's own draft: one-click approval is for a feed's drafts only, refused in words.
        ["POST /admin/campaigns/{newsletterId:int}/edit/{id:int?} Approve"] = "an editor's own draft is sent with the confirmed send form",
        ["POST /admin/campaigns/{newsletterId:int}/report/{id:int} Pause"] = "a draft is not sending",
        ["POST /admin/campaigns/{newsletterId:int}/report/{id:int} Resume"] = "a draft is not paused",
        ["POST /admin/campaigns/{newsletterId:int}/report/{id:int} Cancel"] = "a draft cannot be cancelled",
        // Issue 21: A's campaign is a draft, which has no archive address yet: withdrawing or restoring it is refused in words.
        ["POST /admin/campaigns/{newsletterId:int}/archive/{id:int} Withdraw"] = "a draft is not in the archive",
        ["POST /admin/campaigns/{newsletterId:int}/archive/{id:int} Restore"] = "a draft is not in the archive",
        // A's import has completed: the batch is found (a 404 otherwise), and cancelling a finished import changes nothing.
        ["POST /admin/import/{newsletterId:int}/batch/{batchId:int} Cancel"] = "the import has finished",
        // The WhatsApp queue is the portfolio's, not a newsletter's: the page is found (a 404 otherwise), and with nothing
        // paused there is nothing to resume; the probe's form carries no pause reason, which is refused in words.
        ["POST /admin/whatsapp/{newsletterId:int} Resume"] = "the WhatsApp queue is not paused",
        ["POST /admin/whatsapp/{newsletterId:int} Pause"] = "a pause without a reason is refused",
    };

    private enum Place { Route, Query, Form }

    /// <summary>A value of the request that names a record: where it goes and which kind of record it names.</summary>
    private sealed record RecordValue(string Name, string Kind, Place Place);

    private sealed record Probe(string Method, string Route, string? Handler, string Parameter, List<RecordValue> Values)
    {
        public string Key => $"{Method} {Route} {Handler}";

        public override string ToString() => $"{Method} {Route}{(Handler is null ? "" : " handler " + Handler)} with another newsletter's {Parameter}";

        /// <summary>Newsletter <paramref name="a"/> in the route and all of its records, except the probed value: <paramref name="owner"/>'s record.</summary>
        public HttpRequestMessage Request(Records a, Records owner, string token)
        {
            string ValueOf(RecordValue v) => (v.Name == Parameter ? owner : a).Value(v.Kind);
            var url = RouteValue().Replace(Route, m =>
                IsNewsletterId(m.Groups[1].Value) ? a.Newsletter.Id.ToString(CultureInfo.InvariantCulture)
                : Values.FirstOrDefault(v => v.Place == Place.Route && v.Name.Equals(m.Groups[1].Value, StringComparison.OrdinalIgnoreCase)) is { } v ? ValueOf(v)
                : m.Groups[1].Value == "format" ? "png" : throw new InvalidOperationException($"No value for {{{m.Groups[1].Value}}} in {Route}."));
            var query = new List<string>();
            if (Handler is not null) query.Add("handler=" + Handler);
            query.AddRange(Values.Where(v => v.Place == Place.Query).Select(v => $"{v.Name}={ValueOf(v)}"));
            var request = new HttpRequestMessage(new HttpMethod(Method), url + (query.Count == 0 ? "" : "?" + string.Join('&', query)));
            if (Method != "GET")
            {
                var form = WouldSucceed();
                foreach (var v in Values.Where(v => v.Place == Place.Form)) form[v.Name] = ValueOf(v);
                form["__RequestVerificationToken"] = token;
                request.Content = new FormUrlEncodedContent(form);
            }
            return request;
        }
    }

    /// <summary>One probe per handler and record value: newsletter A in the route, B's record in that one value.</summary>
    private async Task<List<Probe>> ProbesAsync()
    {
        var loader = _app.Service<PageLoader>();
        var endpoints = _app.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Any(p => IsNewsletterId(p.Name)));
        var probes = new List<Probe>();
        foreach (var endpoint in endpoints)
        {
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var routeParameters = endpoint.RoutePattern.Parameters.Select(p => p.Name).Where(n => !IsNewsletterId(n)).ToList();
            var handlers = new List<(string Method, string? Name, List<(string Name, Type Type, bool FromQuery)> Values)>();
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                var compiled = await loader.LoadAsync(page, endpoint.Metadata);
                foreach (var handler in compiled.HandlerMethods)
                {
                    var method = handler.HttpMethod.ToUpperInvariant();
                    var values = handler.Parameters.Select(p => (p.BindingInfo?.BinderModelName ?? p.Name, p.ParameterType, IsQuery(p.BindingInfo)))
                        .Concat(compiled.BoundProperties.Where(p => BindsOn(p.BindingInfo, method))
                            .Select(p => (p.BindingInfo?.BinderModelName ?? p.Name, p.ParameterType, IsQuery(p.BindingInfo))))
                        .ToList();
                    handlers.Add((method, handler.Name, values));
                }
            }
            else
            {
                var parameters = endpoint.Metadata.GetMetadata<MethodInfo>()?.GetParameters() ?? [];
                foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                    handlers.Add((method, null, parameters.Select(p => (p.Name!, p.ParameterType, p.GetCustomAttributes().OfType<IFromQueryMetadata>().Any())).ToList()));
            }

            foreach (var (method, handler, values) in handlers)
            {
                // Every value that names a record, with where the request carries it: the route, the query string
                // (a GET's values and what is bound from the query on any method), or the form.
                var records = routeParameters.Select(n => (Name: n, Type: typeof(string), Place: Place.Route))
                    .Concat(values.Where(v => IsIdType(v.Type)).Select(v => (v.Name, v.Type, Place: method == "GET" || v.FromQuery ? Place.Query : Place.Form)))
                    .Where(v => !IsNewsletterId(v.Name))
                    .DistinctBy(v => v.Name, StringComparer.OrdinalIgnoreCase)
                    .Select(v => RecordKind(route, v.Name) is { } kind ? new RecordValue(v.Name, kind, v.Place) : null)
                    .OfType<RecordValue>().ToList();
                probes.AddRange(records.Select(r => new Probe(method, route, handler, r.Name, records)));
            }
        }
        return probes;
    }

    /// <summary>
    /// Which record a parameter names. Throws for a parameter nobody has classified: a new record id must be added
    /// here (with the record of newsletter B it should be probed with), a new non-record number with its reason.
    /// </summary>
    private static string? RecordKind(string route, string parameter) => parameter.ToLowerInvariant() switch
    {
        "id" when route.StartsWith("/admin/campaigns/", StringComparison.Ordinal) => "campaign",
        "batchid" or "import" => "import",
        "uploadid" => "upload",
        "feedid" => "feed",
        "contactid" or "resend" or "stop" => "contact",
        // Not records: page numbers, column numbers of the upload's preview, a file format, and the queue's keyset cursor,
        // which only says where to go on reading this newsletter's own contacts and shows or changes nothing of the one it names.
        "format" or "p" or "pagenumber" or "phonecolumn" or "namecolumn" or "firstnamecolumn" or "lastnamecolumn" or "after" => null,
        _ => throw new Xunit.Sdk.XunitException($"{route} takes '{parameter}': say in {nameof(RecordKind)} which record it names (or why it names none)."),
    };

    /// <summary>A form every POST handler would act on if the record were its own: confirmed, complete, in the future.</summary>
    private static Dictionary<string, string> WouldSucceed() => new()
    {
        ["Input.Subject"] = "Überschrieben", ["Input.Body"] = "Fremder Text", ["confirmSend"] = "true", ["confirmCancel"] = "true",
        ["confirm"] = "true", ["scheduleAt"] = DateTime.UtcNow.AddDays(2).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture),
        ["testAddresses"] = "admin@example.test", ["Reason"] = "Probe", ["PhoneColumn"] = "0", ["NameColumn"] = "1", ["HasHeader"] = "true",
        ["Filter"] = "Open", ["Lang"] = "de",
        ["Input.Url"] = "https://www.tagblatt.example/rss/neu.xml", ["Input.Mode"] = "Breaking", ["Input.MaxPerDay"] = "5",
    };

    private static bool IsNewsletterId(string name) => name.Equals("newsletterId", StringComparison.OrdinalIgnoreCase);

    private static bool IsQuery(BindingInfo? binding) => binding?.BindingSource == BindingSource.Query;

    /// <summary>Waits for what a positive control started in the background (mails, an import) to finish, so it cannot change a later snapshot.</summary>
    private async Task QuietAsync()
    {
        await _app.OutboxIdleAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        // An import is over when its job is (the worker clears the spooled upload before it ends the job), not when its batch says Completed.
        var imports = _app.Service<ImportQueue>();
        while (await _app.WithDbAsync(async db => await db.ImportBatches.AnyAsync(x => x.Status == ImportStatus.Running)
                   || (await db.ImportBatches.Select(x => x.Id).ToListAsync()).Any(imports.IsActive)
                   || await db.Campaigns.AnyAsync(x => x.Status == CampaignStatus.Preparing || x.Status == CampaignStatus.Sending)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("An import or a campaign did not finish.");
            await Task.Delay(50);
        }
    }

    private static bool IsIdType(Type type) => (Nullable.GetUnderlyingType(type) ?? type) is var t && (t == typeof(int) || t == typeof(Guid));

    /// <summary>[BindProperty] without SupportsGet binds on POST only; [FromQuery] and [FromRoute] on every method.</summary>
    private static bool BindsOn(BindingInfo? binding, string method) =>
        binding?.RequestPredicate is not { } predicate || predicate(new ActionContext { HttpContext = new DefaultHttpContext { Request = { Method = method } } });

    /// <summary>Everything a foreign request could change: the rows of every record kind, the audit log and the spooled uploads.</summary>
    private Task<string> SnapshotAsync() => _app.WithDbAsync(async db => JsonSerializer.Serialize(new object[]
    {
        await db.Newsletters.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.Campaigns.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.ImportBatches.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.Contacts.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.Subscribers.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.OutboundMessages.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.WhatsAppMessages.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.Suppressions.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        await db.AuditEntries.AsNoTracking().OrderBy(x => x.Id).ToListAsync(),
        Directory.Exists(_app.Service<ImportSpool>().Folder) ? Directory.GetFiles(_app.Service<ImportSpool>().Folder).Order().ToArray() : [],
    }));

    [GeneratedRegex(@"\{([^}:?=]+)[^}]*\}")]
    private static partial Regex RouteValue();
}
