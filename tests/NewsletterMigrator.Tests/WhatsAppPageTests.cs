using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// What staff see of WhatsApp at scale (issue 14): the daily budget and its forecast against the migration end, the
/// queue's pause with its reason and who may lift it, and the contacts Meta reported as not on WhatsApp.
/// </summary>
public sealed class WhatsAppPageTests : IAsyncLifetime
{
    private readonly FakeGraphApi _graph = new();
    private AppFactory? _app;

    private AppFactory Start(Dictionary<string, string?>? extra = null, TimeProvider? clock = null)
    {
        var settings = _graph.Settings();
        foreach (var (key, value) in extra ?? []) settings[key] = value;
        _app = new AppFactory(settings: settings) { TestServices = clock is null ? null : s => s.AddSingleton(clock) };
        return _app;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        await _graph.DisposeAsync();
    }

    [Fact]
    public async Task The_forecast_shows_the_limit_the_queue_and_when_it_ends_and_warns_before_the_migration_end_with_what_a_higher_limit_changes()
    {
        // Tomorrow 08:00 German time, an hour before the sending hours open: the worker sends nothing, the state stays known.
        var day = QuietWeekFromTomorrow();
        var clock = new ManualClock(new DateTimeOffset(Berlin.ToUtc(day.ToDateTime(new TimeOnly(8, 0))), TimeSpan.Zero));
        // Meta's answer lacks the limit (an error shown) and no setting names one: 250, a new portfolio's limit.
        _graph.MessagingLimit = null;
        var app = Start(new() { ["WhatsApp:SendingHours"] = "09:00-19:00", ["WhatsApp:BatchInterval"] = "10:00:00" }, clock);
        var newsletter = await app.NewsletterAsync();
        await app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"));
        var other = await app.NewsletterAsync("sport");
        await app.ImportAsync(other, "sport.csv", ("0171 2222222", "Ben Beispiel"));
        await app.SetMigrationEndAsync(newsletter, day.AddDays(1));
        // 75 went out yesterday at noon; 625 of this newsletter wait, then 250 of another one.
        await SeedAsync(app, newsletter.Id, 75, Berlin.ToUtc(day.AddDays(-1).ToDateTime(new TimeOnly(12, 0))));
        await SeedAsync(app, newsletter.Id, 625, acceptedAtUtc: null);
        await SeedAsync(app, other.Id, 250, acceptedAtUtc: null);
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.GraphError != null)));
        var editor = await app.EditorAsync();

        var page = await editor.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");

        Assert.Contains("Tagesbudget / Prognose", page);
        Assert.Equal("250", Text(page, "forecast-limit"));
        Assert.Contains("250, Grenze eines neuen Portfolios", Text(page, "forecast-limit-source"));
        Assert.Contains("no messaging limit in the answer", Text(page, "forecast-graph-error"));
        Assert.Equal("GREEN", Text(page, "forecast-quality"));
        Assert.Equal("75", Text(page, "forecast-sent"));
        Assert.Equal("875", Text(page, "forecast-queued-all"));
        Assert.Equal("625", Text(page, "forecast-queued"));
        Assert.Equal("09:00–19:00 Uhr (deutsche Zeit), alle 10 Std. ein Schub, je Schub höchstens 250 (Tagesbudget 250)", Text(page, "forecast-pacing"));
        // Each day 250: today 175 at nine and, once yesterday's 75 leave the 24 hours, 75 at noon; so the 625th the day after tomorrow.
        Assert.Equal(At(day.AddDays(2), 9), Text(page, "forecast-last"));
        Assert.Equal(At(day.AddDays(3), 9), Text(page, "forecast-last-all"));
        Assert.Equal(Berlin.Format(Berlin.EndOfDayUtc(day.AddDays(1))), Text(page, "forecast-migration-end"));
        Assert.Equal($"Die Warteschlange dieses Newsletters wird vor dem Migrationsende ({Berlin.Format(Berlin.EndOfDayUtc(day.AddDays(1)))}) nicht fertig: "
                     + "Beim jetzigen Limit blieben 125 Einladungen übrig. Verlängern Sie das Migrationsende oder warten Sie auf ein höheres Limit.",
            Text(page, "forecast-too-late"));
        Assert.Contains($"<li>Mit einem Limit von 2.000: fertig am {At(day, 9)}</li>", page);
        Assert.Contains($"<li>Mit einem Limit von 10.000: fertig am {At(day, 9)}</li>", page);

        // YELLOW halves the pace, and the page says so.
        await app.WithDbAsync(db => db.WhatsAppAccounts.ExecuteUpdateAsync(u => u.SetProperty(a => a.QualityRating, "YELLOW")));
        page = await editor.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");
        Assert.Equal("YELLOW – halbes Tempo, solange die Bewertung gelb ist", Text(page, "forecast-quality"));
        Assert.Contains("je Schub höchstens 125 (Tagesbudget 125)", Text(page, "forecast-pacing"));
        await app.WithDbAsync(db => db.WhatsAppAccounts.ExecuteUpdateAsync(u => u.SetProperty(a => a.QualityRating, "GREEN")));

        // Meta raises the limit (webhook): the source says so, the queue ends today and the warning is gone.
        var webhook = FakeGraphApi.CapabilityWebhook(10_000);
        var content = new StringContent(webhook, Encoding.UTF8, "application/json");
        content.Headers.Add("X-Hub-Signature-256", FakeGraphApi.Sign(webhook, FakeGraphApi.AppSecret));
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsync("/webhooks/whatsapp", content)).StatusCode);
        page = await editor.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");
        Assert.Equal("10.000", Text(page, "forecast-limit"));
        Assert.Equal($"von Meta per Webhook gemeldet am {Berlin.Format(clock.Now.UtcDateTime)}", Text(page, "forecast-limit-source"));
        Assert.Equal(At(day, 9), Text(page, "forecast-last"));
        Assert.DoesNotContain("forecast-too-late", page);
        Assert.Contains("<li>Mit einem Limit von 100.000: fertig am", page);
    }

    [Fact]
    public async Task A_paused_queue_shows_its_reason_to_all_staff_only_an_admin_resumes_it_and_a_manual_pause_needs_a_reason()
    {
        var app = Start();
        var newsletter = await app.NewsletterAsync();
        var editor = await app.EditorAsync();
        var admin = await app.AdminAsync();
        var whatsAppPage = $"/admin/whatsapp/{newsletter.Id}";

        // Meta pauses the template: the webhook pauses the queue.
        var webhook = FakeGraphApi.TemplateWebhook("PAUSED");
        var content = new StringContent(webhook, Encoding.UTF8, "application/json");
        content.Headers.Add("X-Hub-Signature-256", FakeGraphApi.Sign(webhook, FakeGraphApi.AppSecret));
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsync("/webhooks/whatsapp", content)).StatusCode);
        var since = Berlin.Format(await app.WithDbAsync(db => db.WhatsAppAccounts.Select(a => a.PausedAtUtc).SingleAsync()));

        var dashboard = await editor.GetStringAsync("/admin");
        Assert.Contains($"WhatsApp-Versand angehalten seit {since}:", dashboard);
        Assert.Equal("Vorlage von Meta pausiert, deaktiviert oder abgelehnt: template newsletter_umzug (de) PAUSED", Text(dashboard, "whatsapp-paused-reason"));
        Assert.Contains(whatsAppPage, Html.Links(dashboard));

        // The editor sees the banner but no button, and a forged POST is refused.
        var page = await editor.GetStringAsync(whatsAppPage);
        Assert.Contains("id=\"whatsapp-paused\"", page);
        Assert.DoesNotContain("whatsapp-resume", page);
        Assert.DoesNotContain("whatsapp-pause\"", page);
        var refused = await editor.PostFormAsync($"{whatsAppPage}?handler=Resume", page, []);
        Assert.Contains("/account/denied", refused.Headers.Location?.ToString());
        Assert.True(await PausedAsync(app));

        page = await admin.GetStringAsync(whatsAppPage);
        Assert.Contains("id=\"whatsapp-resume\"", page);
        var resumed = await admin.PostFormAsync($"{whatsAppPage}?handler=Resume", page, []);
        Assert.Equal(HttpStatusCode.Redirect, resumed.StatusCode);
        page = await admin.GetStringAsync(resumed.Headers.Location!.OriginalString);
        Assert.Contains("Der WhatsApp-Versand läuft wieder", page);
        Assert.DoesNotContain("id=\"whatsapp-paused\"", page);
        Assert.False(await PausedAsync(app));
        Assert.Equal("admin@example.test", (await app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "whatsapp-resume"))).UserName);
        Assert.DoesNotContain("id=\"whatsapp-paused\"", await editor.GetStringAsync("/admin"));

        // A manual pause: admins only, and never without a reason.
        var editorPage = await editor.GetStringAsync(whatsAppPage);
        refused = await editor.PostFormAsync($"{whatsAppPage}?handler=Pause", editorPage, new() { ["PauseReason"] = "Test" });
        Assert.Contains("/account/denied", refused.Headers.Location?.ToString());
        var noReason = await admin.PostFormAsync($"{whatsAppPage}?handler=Pause", page, new() { ["PauseReason"] = "   " });
        Assert.Equal(HttpStatusCode.OK, noReason.StatusCode);
        Assert.Contains("Bitte einen Grund für das Anhalten angeben.", await noReason.Content.ReadAsStringAsync());
        Assert.False(await PausedAsync(app));

        var paused = await admin.PostFormAsync($"{whatsAppPage}?handler=Pause", page, new() { ["PauseReason"] = "Rückfragen der Redaktion abwarten" });
        Assert.Equal(HttpStatusCode.Redirect, paused.StatusCode);
        var account = await app.WithDbAsync(db => db.WhatsAppAccounts.SingleAsync());
        Assert.Equal(WhatsAppPause.Manual, account.PauseKind);
        var audit = await app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "whatsapp-pause" && a.UserName == "admin@example.test"));
        Assert.Contains("Rückfragen der Redaktion abwarten", audit.Details);
        dashboard = await editor.GetStringAsync("/admin");
        Assert.Contains($"WhatsApp-Versand angehalten seit {Berlin.Format(account.PausedAtUtc)}:", dashboard);
        Assert.Equal("von Hand angehalten: Rückfragen der Redaktion abwarten", Text(dashboard, "whatsapp-paused-reason"));
    }

    [Fact]
    public async Task A_manual_pause_that_comes_after_a_webhook_pause_says_so_with_the_standing_reason_and_records_nothing()
    {
        var app = Start();
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var whatsAppPage = $"/admin/whatsapp/{newsletter.Id}";
        // The admin opens the page while the queue runs; Meta pauses the template before the admin presses "pause".
        var page = await admin.GetStringAsync(whatsAppPage);
        Assert.Contains("id=\"whatsapp-pause\"", page);
        await PostWebhookAsync(app, FakeGraphApi.TemplateWebhook("PAUSED"));

        var response = await admin.PostFormAsync($"{whatsAppPage}?handler=Pause", page, new() { ["PauseReason"] = "Rückfragen der Redaktion abwarten" });
        var shown = await FollowAsync(admin, response);
        Assert.Contains("Der WhatsApp-Versand war schon angehalten (Vorlage von Meta pausiert, deaktiviert oder abgelehnt: template newsletter_umzug (de) PAUSED); "
                        + "Ihr Grund wurde nicht gespeichert.", shown);
        Assert.DoesNotContain("Der WhatsApp-Versand ist angehalten; der Grund steht im Protokoll.", shown);
        var account = await app.WithDbAsync(db => db.WhatsAppAccounts.SingleAsync());
        Assert.Equal(WhatsAppPause.Template, account.PauseKind);
        Assert.False(await app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "whatsapp-pause" && a.UserName == "admin@example.test")));
        Assert.False(await app.WithAccountsAsync(a => a.PauseAsync(WhatsAppPause.Manual, "noch einmal", "admin@example.test")));
    }

    [Fact]
    public async Task While_Meta_rates_the_number_RED_an_admin_cannot_resume_and_the_page_says_why()
    {
        var app = Start();
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var whatsAppPage = $"/admin/whatsapp/{newsletter.Id}";
        // The worker's first Graph API read (GREEN) is over before Meta flags the number.
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.QualityRating == "GREEN")));
        _graph.QualityRating = "RED";
        await PostWebhookAsync(app, FakeGraphApi.QualityWebhook("FLAGGED", "TIER_10K"));

        var page = await admin.GetStringAsync(whatsAppPage);
        var response = await admin.PostFormAsync($"{whatsAppPage}?handler=Resume", page, []);
        var shown = await FollowAsync(admin, response);
        Assert.Contains("Meta bewertet die Nummer als ROT: Der Versand kann nicht von Hand fortgesetzt werden. "
                        + "Er geht von selbst weiter, sobald Meta die Nummer nicht mehr als ROT bewertet.", shown);
        Assert.Contains("id=\"whatsapp-paused\"", shown);
        Assert.True(await PausedAsync(app));
        Assert.False(await app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "whatsapp-resume")));
    }

    private static async Task PostWebhookAsync(AppFactory app, string webhook)
    {
        var content = new StringContent(webhook, Encoding.UTF8, "application/json");
        content.Headers.Add("X-Hub-Signature-256", FakeGraphApi.Sign(webhook, FakeGraphApi.AppSecret));
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().PostAsync("/webhooks/whatsapp", content)).StatusCode);
    }

    /// <summary>The page the reader sees after a form: the redirect's target, or the page itself when it answered at once.</summary>
    private static async Task<string> FollowAsync(HttpClient client, HttpResponseMessage response) =>
        WebUtility.HtmlDecode(response.StatusCode == HttpStatusCode.Redirect
            ? await client.GetStringAsync(response.Headers.Location!.OriginalString)
            : await response.Content.ReadAsStringAsync());

    [Fact]
    public async Task Contacts_not_on_WhatsApp_show_in_the_list_the_funnel_and_the_error_counts_and_only_reachable_ones_are_exported_for_another_channel_C41()
    {
        var app = Start();
        var newsletter = await app.NewsletterAsync();
        var first = await app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"));
        var second = await app.ImportAsync(newsletter, "nachtrag.csv", ("0171 2222222", "Ben Beispiel"));
        var third = await app.ImportAsync(newsletter, "verein.csv", ("0172 3333333", "Clara Probe"), ("0173 4444444", "Dora Test"), ("0174 5555555", "Emil Muster"));
        var admin = await app.AdminAsync();
        // Anna gets the template; Meta answers 131026 for everyone else, import by import.
        await QueueAsync(app, admin, newsletter.Id, first, expectFailed: 0);
        _graph.Refuse(131026);
        await QueueAsync(app, admin, newsletter.Id, second, expectFailed: 1);
        for (var i = 0; i < 3; i++) _graph.Refuse(131026);
        await QueueAsync(app, admin, newsletter.Id, third, expectFailed: 4);
        // Dora then objects (STOP); Emil's number arrives on the suppression list, as an opt-out list import leaves it.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var dora = await app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.DisplayName == "Dora Test"));
            await scope.ServiceProvider.GetRequiredService<PhoneObjections>().ObjectContactAsync(newsletter.Id, dora.Id, "WhatsApp (staff)", "test");
        }
        await app.WithDbAsync(db =>
        {
            db.Suppressions.Add(new Suppression { Kind = SuppressionKind.Phone, Hash = app.Service<PhoneProtector>().Hmac("+491745555555"), Reason = "opt-out list" });
            return db.SaveChangesAsync();
        });

        var list = await admin.GetStringAsync($"/admin/contacts/{newsletter.Id}");
        Assert.Contains("nicht bei WhatsApp", Row(list, "Ben Beispiel"));
        Assert.Contains("nicht bei WhatsApp", Row(list, "Clara Probe"));
        Assert.Contains("nicht bei WhatsApp", Row(list, "Emil Muster"));
        Assert.DoesNotContain("nicht bei WhatsApp", Row(list, "Anna Muster"));
        Assert.Contains("eingeladen", Row(list, "Anna Muster"));
        Assert.Contains("4 nicht bei WhatsApp", list);
        var exportPath = $"/admin/contacts/{newsletter.Id}/export.csv?only=not-on-whatsapp";
        Assert.Contains(exportPath, Html.Links(list));

        var funnel = await admin.GetStringAsync($"/admin/funnel/{newsletter.Id}");
        var counts = Regex.Matches(funnel, "<span class=\"funnel-not-on-whatsapp\">(\\d+)</span>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["4", "0", "1", "3"], counts); // all imports, then each import in order

        var whatsApp = await admin.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");
        var codeRow = Regex.Match(whatsApp, "<tr data-code=\"131026\">(.*?)</tr>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("nicht zustellbar: kein WhatsApp, veraltete App oder Nutzungsbedingungen nicht akzeptiert", codeRow);
        Assert.Matches("<td class=\"text-end\">4</td>\\s*<td class=\"text-end\">0</td>", codeRow);
        Assert.Contains("4 nicht bei WhatsApp", Text(whatsApp, "whatsapp-not-on-whatsapp"));
        Assert.Contains(exportPath, Html.Links(whatsApp));

        // Only Ben and Clara: not Anna (on WhatsApp), not Dora (objected, C41), not Emil (suppressed, C18).
        var export = await admin.GetAsync(exportPath);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Contains("contacts-eilmeldungen-not-on-whatsapp.csv", export.Content.Headers.ContentDisposition!.ToString());
        var rows = (await export.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r.StartsWith("\"Ben Beispiel\";\"'+491712222222\""));
        Assert.Contains(rows, r => r.StartsWith("\"Clara Probe\";\"'+491723333333\""));
        Assert.All(rows, r => Assert.Contains("/i/", r));
        Assert.All(rows, r => Assert.EndsWith(";\"\"", r)); // no wa.me link: it would lead nowhere
        var audit = await app.WithDbAsync(db => db.AuditEntries.Where(a => a.Action == "export").OrderBy(a => a.Id).ToListAsync());
        Assert.Contains("exported 2 contacts of newsletter eilmeldungen with links, only those not on WhatsApp", Assert.Single(audit).Details);

        // A filter the export does not know is refused in words, and exports nothing.
        var unknown = await admin.GetAsync($"/admin/contacts/{newsletter.Id}/export.csv?only=alle");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Unbekannte Auswahl für den Export", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == "export")));

        // Clara signs up meanwhile (a forwarded link reached her): she needs no invitation by another channel (C11).
        await app.WithDbAsync(db => db.Contacts.Where(c => c.DisplayName == "Clara Probe").ExecuteUpdateAsync(u => u.SetProperty(c => c.SignedUpAtUtc, DateTime.UtcNow)));
        rows = (await admin.GetStringAsync(exportPath)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.StartsWith("\"Ben Beispiel\";", Assert.Single(rows));
    }

    /// <summary>Queues one import through the WhatsApp page and waits until the worker has answered every message.</summary>
    private static async Task QueueAsync(AppFactory app, HttpClient admin, int newsletterId, int importId, int expectFailed)
    {
        var page = await admin.GetStringAsync($"/admin/whatsapp/{newsletterId}");
        var response = await admin.PostFormAsync($"/admin/whatsapp/{newsletterId}?handler=Queue", page, new() { ["Import"] = importId.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(async db =>
            !await db.WhatsAppMessages.AnyAsync(m => m.Status == WhatsAppStatus.Queued || m.Status == WhatsAppStatus.Leased)
            && await db.WhatsAppMessages.CountAsync(m => m.Status == WhatsAppStatus.Failed) == expectFailed));
    }

    private static Task SeedAsync(AppFactory app, int newsletterId, int count, DateTime? acceptedAtUtc) => app.WithDbAsync(async db =>
    {
        var contactId = await db.Contacts.Where(c => c.NewsletterId == newsletterId).Select(c => c.Id).FirstAsync();
        var future = DateTime.UtcNow.AddYears(1);
        db.WhatsAppMessages.AddRange(Enumerable.Range(0, count).Select(_ => new WhatsAppMessage
        {
            ContactId = contactId, NewsletterId = newsletterId, RequestedBy = "test", CreatedAtUtc = DateTime.UtcNow,
            Status = acceptedAtUtc is null ? WhatsAppStatus.Queued : WhatsAppStatus.Delivered, AcceptedAtUtc = acceptedAtUtc,
            // Due only in a year: whatever the clock, the worker leaves the known state alone.
            NextAttemptAtUtc = future,
        }));
        return await db.SaveChangesAsync();
    });

    private static Task<bool> PausedAsync(AppFactory app) => app.WithDbAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PausedAtUtc != null));

    /// <summary>The text of the element with this id, as the reader sees it.</summary>
    private static string Text(string html, string id)
    {
        var m = Regex.Match(html, $"id=\"{Regex.Escape(id)}\"[^>]*>(.*?)</(td|div|span|p)>", RegexOptions.Singleline);
        Assert.True(m.Success, $"No element #{id} in the page.");
        return WebUtility.HtmlDecode(Regex.Replace(Regex.Replace(m.Groups[1].Value, "<[^>]+>", " "), "\\s+", " ")).Trim();
    }

    /// <summary>The contact list's row of one contact.</summary>
    private static string Row(string html, string name) =>
        Regex.Matches(html, "<tr>(.*?)</tr>", RegexOptions.Singleline).Select(m => m.Groups[1].Value).Single(r => r.Contains(name));

    private static string At(DateOnly day, int hour) => Berlin.Format(Berlin.ToUtc(day.ToDateTime(new TimeOnly(hour, 0))));

    /// <summary>Tomorrow, or a week later when the clocks change within the days the forecast spans (its hours are German time).</summary>
    private static DateOnly QuietWeekFromTomorrow()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var day = DateOnly.FromDateTime(Berlin.ToLocal(DateTime.UtcNow)).AddDays(1);
        while (zone.GetUtcOffset(day.AddDays(-1).ToDateTime(TimeOnly.MinValue)) != zone.GetUtcOffset(day.AddDays(5).ToDateTime(TimeOnly.MinValue)))
            day = day.AddDays(7);
        return day;
    }
}
