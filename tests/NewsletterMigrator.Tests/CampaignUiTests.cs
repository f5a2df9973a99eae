using NewsletterMigrator.Common;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The editor's side of a campaign over HTTP: preview, schedule, report, pause/resume/cancel.</summary>
public sealed class CampaignUiTests
{
    private const string Subject = "Eilmeldung: Hochwasser am Fluss";

    [Fact]
    public async Task Preview_is_the_real_mail_layout_in_a_sandboxed_frame_with_unsubscribe_link_and_impressum_C22_C25()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var id = await app.CampaignAsync(newsletter, Subject, "Die **wichtigste** Nachricht.\n\n<script>alert(1)</script>", start: false);
        var staff = await SendingEngineTests.StaffClientAsync(app);

        var editor = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/edit/{id}");
        var previewUrl = $"/admin/campaigns/{newsletter.Id}/preview/{id}";
        Assert.Contains($"src=\"{previewUrl}\"", editor);
        Assert.Matches("<iframe[^>]*sandbox", editor);

        var response = await staff.GetAsync(previewUrl);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<strong>wichtigste</strong>", html);
        Assert.Contains("Tagblatt Eilmeldungen", html); // the newsletter's header
        Assert.Contains("Newsletter abbestellen", html); // C22
        Assert.Contains("Tagblatt GmbH, Musterstra", html); // C25
        Assert.Contains("Art. 21 DSGVO", html); // C4
        Assert.DoesNotContain("<script", html);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("sandbox", csp);
        Assert.DoesNotContain("script-src", csp);
        Assert.Equal("SAMEORIGIN", response.Headers.GetValues("X-Frame-Options").Single());

        // Everything else still refuses to be framed.
        var page = await staff.GetAsync($"/admin/campaigns/{newsletter.Id}/edit/{id}");
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal(HttpStatusCode.Redirect, (await app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).GetAsync(previewUrl)).StatusCode);
    }

    [Fact]
    public async Task Scheduled_in_Berlin_time_the_campaign_starts_by_itself()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");
        var id = await app.CampaignAsync(newsletter, Subject, start: false);
        var staff = await SendingEngineTests.StaffClientAsync(app);

        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var startUtc = DateTime.UtcNow.AddSeconds(4);
        var local = TimeZoneInfo.ConvertTimeFromUtc(startUtc, berlin);
        var form = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/edit/{id}");
        var response = await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/edit/{id}?handler=Schedule", form,
            new() { ["ScheduleAt"] = local.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var scheduled = await app.CampaignRowAsync(id);
        Assert.Equal(CampaignStatus.Scheduled, scheduled.Status);
        Assert.Equal(startUtc.ToString("yyyy-MM-dd HH:mm:ss"), scheduled.ScheduledForUtc!.Value.ToString("yyyy-MM-dd HH:mm:ss"));
        Assert.Empty(app.Smtp.Received(Subject));

        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        Assert.True(DateTime.UtcNow >= startUtc.AddSeconds(-1));
        Assert.Single(app.Smtp.Received(Subject)["leserin@example.test"]);

        // A time in the past is refused with a message, and changes nothing.
        var other = await app.CampaignAsync(newsletter, "Noch eine", start: false);
        form = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/edit/{other}");
        var refused = await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/edit/{other}?handler=Schedule", form,
            new() { ["ScheduleAt"] = "2020-01-01T08:00" });
        Assert.Contains("Zeitpunkt in der Zukunft", await refused.Content.ReadAsStringAsync());
        Assert.Equal(CampaignStatus.Draft, (await app.CampaignRowAsync(other)).Status);
    }

    [Fact]
    public async Task Report_groups_failures_by_reply_and_the_csv_is_safe_to_open_in_a_spreadsheet()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "=hyperlink@example.test", "voll@example.test", "auch-voll@example.test", "ok@example.test");
        app.Smtp.Refuse["=hyperlink@example.test"] = TestSmtpServer.Reply(550, "5.7.26 Unauthenticated mail is prohibited");
        app.Smtp.Refuse["voll@example.test"] = TestSmtpServer.Reply(552, "5.2.2 Mailbox full");
        app.Smtp.Refuse["auch-voll@example.test"] = TestSmtpServer.Reply(552, "5.2.2 Mailbox full");
        var id = await app.CampaignAsync(newsletter, Subject);
        // The 5.7.26 refusal pauses the campaign (C37); the editor resumes after looking at it.
        await SendingEngineTests.WaitUntilAsync(() => app.Smtp.Attempts.ContainsKey("ok@example.test") && app.Smtp.Attempts.Count >= 4);
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var campaign = await app.WaitForCampaignAsync(id, CampaignStatus.Paused);
        var report = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{id}");
        Assert.Contains("5.7.26", report);
        Assert.Contains("Pausiert. Grund:", report);
        Assert.Contains("/js/campaign-progress.js", report);

        app.Smtp.Refuse.TryRemove("=hyperlink@example.test", out _);
        app.Smtp.RefuseAtRcpt["=hyperlink@example.test"] = TestSmtpServer.Reply(552, "5.2.2 Mailbox full");
        var response = await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/report/{id}?handler=Resume", report, []);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);

        report = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{id}");
        Assert.Matches(@"5\.2\.2 Mailbox full</td><td class=""text-end"">2<", report);
        var json = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/progress/{id}");
        Assert.Contains("\"sent\":1", json);
        Assert.Contains("\"failed\":3", json);

        var csv = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{id}?handler=Csv");
        Assert.Contains("'=hyperlink@example.test;", csv);
        Assert.DoesNotContain(";=", csv);
        Assert.Contains("voll@example.test;Failed;1;", csv);
        Assert.DoesNotContain("ok@example.test", csv);
    }

    [Theory]
    [InlineData("=SUM(A1)", "'=SUM(A1)")]
    [InlineData("+49 160", "'+49 160")]
    [InlineData("-1", "'-1")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("\tx", "'\tx")]
    [InlineData("550 5.1.1; user unknown", "\"550 5.1.1; user unknown\"")]
    [InlineData("plain", "plain")]
    public void Csv_cells_never_start_a_formula(string value, string cell) => Assert.Equal(cell, SafeCsvWriter.Escape(value, ';'));

    [Fact]
    public async Task Pause_then_cancel_stops_what_has_not_gone_out()
    {
        await using var app = new AppFactory(settings: new() { ["Smtp:MaxConnections"] = "1", ["Sending:BatchSize"] = "2" });
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(40);
        await app.ConfirmedReadersAsync(newsletter, readers);
        app.Smtp.Delay = TimeSpan.FromMilliseconds(250);
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var id = await app.CampaignAsync(newsletter, Subject);
        var report = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{id}");
        await SendingEngineTests.WaitUntilAsync(() => app.Smtp.Received(Subject).Count >= 1);
        await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/report/{id}?handler=Pause", report, []);
        Assert.Equal(CampaignStatus.Paused, (await app.CampaignRowAsync(id)).Status);
        await Task.Delay(1000); // the batch in hand finishes; nothing new is leased
        var whilePaused = app.Smtp.Received(Subject).Count;
        await Task.Delay(1000);
        Assert.Equal(whilePaused, app.Smtp.Received(Subject).Count);
        Assert.True(whilePaused < readers.Length);

        report = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{id}");
        var refused = await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/report/{id}?handler=Cancel", report, []);
        Assert.Contains("bestätigen", await refused.Content.ReadAsStringAsync()); // the checkbox is required
        Assert.Equal(CampaignStatus.Paused, (await app.CampaignRowAsync(id)).Status);
        await staff.PostFormAsync($"/admin/campaigns/{newsletter.Id}/report/{id}?handler=Cancel", report, new() { ["ConfirmCancel"] = "true" });

        Assert.Equal(CampaignStatus.Cancelled, (await app.CampaignRowAsync(id)).Status);
        var cancelled = await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.Status == MessageStatus.Cancelled));
        Assert.Equal(readers.Length - whilePaused, cancelled);
        await Task.Delay(800);
        Assert.Equal(whilePaused, app.Smtp.Received(Subject).Count);
    }
}
