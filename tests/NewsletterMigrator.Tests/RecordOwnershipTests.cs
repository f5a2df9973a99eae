using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;

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
    });

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>One newsletter's records of every kind a route or a form can name.</summary>
    private sealed record Records(Newsletter Newsletter, int Campaign, int Import, Guid Contact, Guid Upload)
    {
        public string Value(string kind) => kind switch
        {
            "campaign" => Campaign.ToString(CultureInfo.InvariantCulture),
            "import" => Import.ToString(CultureInfo.InvariantCulture),
            "contact" => Contact.ToString(),
            "upload" => Upload.ToString(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    private async Task<Records> RecordsAsync(string slug, string draft)
    {
        var newsletter = await _app.NewsletterAsync(slug);
        var import = await _app.ImportAsync(newsletter, slug + ".csv", ("0160 1111111", "Anna " + slug), ("0171 2222222", "Ben " + slug));
        var contact = await _app.WithDbAsync(db => db.Contacts.Where(c => c.ImportBatchId == import).OrderBy(c => c.Id).Select(c => c.Id).FirstAsync());
        var campaign = await _app.CampaignAsync(newsletter, draft, start: false);
        using var file = new MemoryStream(Encoding.UTF8.GetBytes("Telefonnummer;Name\r\n0152 33333333;Clara\r\n"));
        var upload = await _app.Service<ImportSpool>().SaveAsync(file, newsletter.Id, slug + "-neu.csv", "test", TestImports.Basis, CancellationToken.None);
        return new Records(newsletter, campaign, import, contact, upload);
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
    /// </summary>
    [Fact]
    public async Task Every_handler_answers_404_to_a_record_of_another_newsletter_and_changes_nothing()
    {
        var a = await RecordsAsync("eilmeldungen", "Entwurf von Eilmeldungen");
        var b = await RecordsAsync("lokales", Draft);
        await _app.ConfirmedReadersAsync(b.Newsletter, "leserin@example.test");
        // An admin reaches every handler an editor reaches and the admin-only ones besides.
        var admin = await _app.AdminAsync();
        var token = Html.AntiforgeryToken(await admin.GetStringAsync($"/admin/campaigns/{a.Newsletter.Id}/edit/{a.Campaign}"));

        var probes = await ProbesAsync(a, b);
        var failures = new List<string>();
        foreach (var probe in probes)
        {
            var before = await SnapshotAsync();
            var request = new HttpRequestMessage(new HttpMethod(probe.Method), probe.Url);
            if (probe.Form is { } form)
            {
                form["__RequestVerificationToken"] = token;
                request.Content = new FormUrlEncodedContent(form);
            }
            var response = await admin.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.NotFound) failures.Add($"{probe}: {(int)response.StatusCode} {response.Headers.Location}");
            else if (await SnapshotAsync() != before) failures.Add($"{probe}: 404, but the database changed");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {probes.Count} probes took another newsletter's record:\n" + string.Join("\n", failures));
        // The walk must have reached the routes the probe found, or it proves nothing.
        Assert.Contains(probes, p => p.Method == "POST" && p.Handler == "Save" && p.Parameter == "id");
        Assert.Contains(probes, p => p.Route.Contains("/batch/") && p.Parameter == "batchId");
        Assert.Contains(probes, p => p.Route.Contains("/preview/{uploadId") && p.Method == "POST");
        Assert.Contains(probes, p => p.Route.StartsWith("/admin/contacts/") && p.Parameter == "contactId");
        Assert.Contains(probes, p => p.Route.StartsWith("/admin/whatsapp/") && p.Parameter == "Import");
        Assert.Equal(Draft, (await _app.CampaignRowAsync(b.Campaign)).Subject);
    }

    private sealed record Probe(string Method, string Route, string? Handler, string Parameter, string Url, Dictionary<string, string>? Form)
    {
        public override string ToString() => $"{Method} {Route}{(Handler is null ? "" : " handler " + Handler)} with another newsletter's {Parameter}";
    }

    /// <summary>One probe per handler and record parameter: newsletter A in the route, B's record in that one parameter.</summary>
    private async Task<List<Probe>> ProbesAsync(Records a, Records b)
    {
        var loader = _app.Service<PageLoader>();
        var endpoints = _app.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Any(p => IsNewsletterId(p.Name)));
        var probes = new List<Probe>();
        foreach (var endpoint in endpoints)
        {
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var routeParameters = endpoint.RoutePattern.Parameters.Select(p => p.Name).Where(n => !IsNewsletterId(n)).ToList();
            var handlers = new List<(string Method, string? Name, List<(string Name, Type Type)> Values)>();
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                var compiled = await loader.LoadAsync(page, endpoint.Metadata);
                foreach (var handler in compiled.HandlerMethods)
                {
                    var method = handler.HttpMethod.ToUpperInvariant();
                    var values = handler.Parameters.Select(p => (p.BindingInfo?.BinderModelName ?? p.Name, p.ParameterType))
                        .Concat(compiled.BoundProperties.Where(p => BindsOn(p.BindingInfo, method)).Select(p => (p.BindingInfo?.BinderModelName ?? p.Name, p.ParameterType)))
                        .ToList();
                    handlers.Add((method, handler.Name, values));
                }
            }
            else
            {
                var parameters = endpoint.Metadata.GetMetadata<MethodInfo>()?.GetParameters() ?? [];
                foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                    handlers.Add((method, null, parameters.Select(p => (p.Name!, p.ParameterType)).ToList()));
            }

            foreach (var (method, handler, values) in handlers)
            {
                var named = routeParameters.Select(n => (Name: n, Type: typeof(string)))
                    .Concat(values.Where(v => IsIdType(v.Type)))
                    .Where(v => !IsNewsletterId(v.Name))
                    .DistinctBy(v => v.Name, StringComparer.OrdinalIgnoreCase);
                foreach (var (parameter, _) in named)
                {
                    if (RecordKind(route, parameter) is not { } kind) continue;
                    var inRoute = routeParameters.Contains(parameter, StringComparer.OrdinalIgnoreCase);
                    var url = RouteValue().Replace(route, m =>
                        IsNewsletterId(m.Groups[1].Value) ? a.Newsletter.Id.ToString(CultureInfo.InvariantCulture)
                        : m.Groups[1].Value.Equals(parameter, StringComparison.OrdinalIgnoreCase) ? b.Value(kind)
                        : RecordKind(route, m.Groups[1].Value) is { } other ? a.Value(other)
                        : m.Groups[1].Value == "format" ? "png" : throw new InvalidOperationException($"No value for {{{m.Groups[1].Value}}} in {route}."));
                    var query = new List<string>();
                    if (handler is not null) query.Add("handler=" + handler);
                    Dictionary<string, string>? form = null;
                    if (method == "GET")
                    {
                        if (!inRoute) query.Add($"{parameter}={b.Value(kind)}");
                    }
                    else
                    {
                        form = WouldSucceed();
                        if (!inRoute) form[parameter] = b.Value(kind);
                    }
                    probes.Add(new Probe(method, route, handler, parameter, url + (query.Count == 0 ? "" : "?" + string.Join('&', query)), form));
                }
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
    };

    private static bool IsNewsletterId(string name) => name.Equals("newsletterId", StringComparison.OrdinalIgnoreCase);

    private static bool IsIdType(Type type) => (Nullable.GetUnderlyingType(type) ?? type) is var t && (t == typeof(int) || t == typeof(Guid));

    /// <summary>[BindProperty] without SupportsGet binds on POST only; [FromQuery] and [FromRoute] on every method.</summary>
    private static bool BindsOn(Microsoft.AspNetCore.Mvc.ModelBinding.BindingInfo? binding, string method) =>
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
