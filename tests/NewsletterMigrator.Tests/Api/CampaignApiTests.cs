using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Api;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>A CMS creates, schedules, sends and cancels campaigns over HTTP, with the admin pages' rules and an audit trail.</summary>
public sealed class CampaignApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;

    private async Task<(HttpClient Client, int Id)> DraftAsync(string keyName, string subject)
    {
        var client = App.ApiClient(await App.ApiKeyAsync(keyName));
        var created = await client.PostJsonAsync(ApiSteps.Campaigns(), new { subject, preheader = "Kurz gesagt", markdown = "Die **wichtigste** Nachricht." });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (client, (await created.JsonAsync()).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_draft_is_created_read_back_with_its_progress_and_audited_under_the_keys_name()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("redaktion"));

        var created = await client.PostJsonAsync(ApiSteps.Campaigns(), new { subject = "Eilmeldung: Brücke gesperrt", preheader = "Umleitung", markdown = "# Brücke\nGesperrt." });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var id = body.GetProperty("id").GetInt32();
        Assert.Equal($"/api/v1/newsletters/eilmeldungen/campaigns/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal("draft", body.GetProperty("status").GetString());
        var read = await (await client.GetAsync($"{ApiSteps.Campaigns()}/{id}")).JsonAsync();
        Assert.Equal("Eilmeldung: Brücke gesperrt", read.GetProperty("subject").GetString());
        Assert.Equal("Umleitung", read.GetProperty("preheader").GetString());
        Assert.Equal("# Brücke\nGesperrt.", read.GetProperty("markdown").GetString());
        Assert.Equal(0, read.GetProperty("progress").GetProperty("sent").GetInt32());
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == "api:redaktion" && a.Details == $"created draft {id} in eilmeldungen")));
        Assert.Equal("api:redaktion", (await App.CampaignRowAsync(id)).CreatedBy);
    }

    [Fact]
    public async Task A_campaign_of_another_newsletter_or_none_is_not_found()
    {
        var (client, id) = await DraftAsync("fremd", "Nur Eilmeldungen");
        await (await client.GetAsync($"{ApiSteps.Campaigns("sport")}/{id}")).ProblemAsync(404, "not-found");
        await (await client.GetAsync($"{ApiSteps.Campaigns()}/999999")).ProblemAsync(404, "not-found");
        await (await client.PostAsync($"{ApiSteps.Campaigns("sport")}/{id}/send", null)).ProblemAsync(404, "not-found");
        Assert.Equal(CampaignStatus.Draft, (await App.CampaignRowAsync(id)).Status);
    }

    [Fact]
    public async Task Missing_fields_are_a_validation_problem_naming_each_field_and_nothing_is_stored()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("validierung"));
        var before = await App.WithDbAsync(db => db.Campaigns.CountAsync());

        var problem = await (await client.PostJsonAsync(ApiSteps.Campaigns(), new { preheader = new string('x', 201) })).ProblemAsync(400, "validation");

        var errors = problem.GetProperty("errors");
        Assert.Equal("The subject is required.", errors.GetProperty("subject")[0].GetString());
        Assert.Equal("The Markdown body is required.", errors.GetProperty("markdown")[0].GetString());
        Assert.Contains("200", errors.GetProperty("preheader")[0].GetString());
        Assert.Equal(before, await App.WithDbAsync(db => db.Campaigns.CountAsync()));
    }

    [Fact]
    public async Task Broken_or_mistyped_JSON_is_a_400_problem_and_nothing_is_stored()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("kaputt"));
        var before = await App.WithDbAsync(db => db.Campaigns.CountAsync());

        var broken = await (await client.PostRawAsync(ApiSteps.Campaigns(), "{\"subject\": \"Ohne Ende")).ProblemAsync(400, "bad-request");
        Assert.StartsWith("The body is not valid JSON:", broken.GetProperty("detail").GetString());
        var mistyped = await (await client.PostRawAsync(ApiSteps.Campaigns(), "{\"subject\": 5, \"markdown\": []}")).ProblemAsync(400, "bad-request");
        Assert.Contains("openapi.json", mistyped.GetProperty("detail").GetString());
        var notJson = await client.PostAsync(ApiSteps.Campaigns(), new StringContent("subject=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(415, (int)notJson.StatusCode);
        Assert.Equal("application/problem+json", notJson.Content.Headers.ContentType?.MediaType);

        Assert.Equal(before, await App.WithDbAsync(db => db.Campaigns.CountAsync()));
    }

    [Fact]
    public async Task An_unknown_API_path_answers_a_404_problem_not_the_HTML_error_page()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("pfad"));
        await (await client.GetAsync("/api/v1/gibt-es-nicht")).ProblemAsync(404, "not-found");
        var wrongMethod = await client.DeleteAsync($"{ApiSteps.Campaigns()}/1");
        Assert.Equal(405, (int)wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_draft_is_scheduled_for_an_ISO_8601_instant_and_a_time_without_offset_or_in_the_past_is_refused()
    {
        var (client, id) = await DraftAsync("planer", "Geplant");
        var url = $"{ApiSteps.Campaigns()}/{id}/schedule";

        var noOffset = await (await client.PostJsonAsync(url, new { startAt = "2030-01-01T08:00:00" })).ProblemAsync(400, "validation");
        Assert.True(noOffset.GetProperty("errors").TryGetProperty("startAt", out _));
        await (await client.PostJsonAsync(url, new { startAt = "2020-01-01T08:00:00Z" })).ProblemAsync(400, "validation");
        Assert.Equal(CampaignStatus.Draft, (await App.CampaignRowAsync(id)).Status);

        var scheduled = await client.PostJsonAsync(url, new { startAt = "2030-01-01T09:00:00+01:00" });

        Assert.Equal(HttpStatusCode.OK, scheduled.StatusCode);
        var body = await scheduled.JsonAsync();
        Assert.Equal("scheduled", body.GetProperty("status").GetString());
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 8, 0, 0, TimeSpan.Zero), body.GetProperty("scheduledFor").GetDateTimeOffset());
        Assert.Equal(new DateTime(2030, 1, 1, 8, 0, 0), (await App.CampaignRowAsync(id)).ScheduledForUtc);
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == "api:planer" && a.Action == "schedule")));

        // Cancelled, it can be scheduled no more; cancelling it again is refused too.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"{ApiSteps.Campaigns()}/{id}/cancel", null)).StatusCode);
        Assert.Equal(CampaignStatus.Cancelled, (await App.CampaignRowAsync(id)).Status);
        await (await client.PostJsonAsync(url, new { startAt = "2030-01-01T08:00:00Z" })).ProblemAsync(409, "conflict");
        await (await client.PostAsync($"{ApiSteps.Campaigns()}/{id}/cancel", null)).ProblemAsync(409, "conflict");
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == "api:planer" && a.Action == "cancel")));
    }

    [Fact]
    public async Task Send_now_mails_every_confirmed_reader_once_and_a_second_send_is_a_conflict()
    {
        await App.ConfirmedReadersAsync(fixture.Sport, "fan1@example.test", "fan2@example.test");
        var client = App.ApiClient(await App.ApiKeyAsync("sportredaktion", newsletters: ["sport"]));
        var created = await (await client.PostJsonAsync(ApiSteps.Campaigns("sport"), new { subject = "Tor in der 90.", markdown = "Abpfiff." })).JsonAsync();
        var id = created.GetProperty("id").GetInt32();

        var sent = await client.PostAsync($"{ApiSteps.Campaigns("sport")}/{id}/send", null);

        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        Assert.Equal(2, (await sent.JsonAsync()).GetProperty("progress").GetProperty("recipients").GetInt32());
        await App.WaitForCampaignAsync(id, CampaignStatus.Sent);
        Assert.Equal(2, App.Smtp.Received("Tor in der 90.").Count);
        var progress = (await (await client.GetAsync($"{ApiSteps.Campaigns("sport")}/{id}")).JsonAsync()).GetProperty("progress");
        Assert.Equal(2, progress.GetProperty("sent").GetInt32());
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == "api:sportredaktion" && a.Action == "send")));

        await (await client.PostAsync($"{ApiSteps.Campaigns("sport")}/{id}/send", null)).ProblemAsync(409, "conflict");
    }
}
