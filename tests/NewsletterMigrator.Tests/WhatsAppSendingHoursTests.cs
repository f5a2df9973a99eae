using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, point 4: the day's budget spread over the sending hours in batches, so replies and STOPs come back before
/// the next batch; STOP replies crossing the configured rate pause the queue at once.
/// </summary>
public sealed class WhatsAppSendingHoursTests
{
    /// <summary>
    /// 09:00–20:00 Berlin in hourly batches: 11 batches a day. The limit comes from WhatsApp:MessagingLimit, as where the
    /// Graph API does not say (the fake leaves the field out): 110, so each batch is 10.
    /// </summary>
    private static WhatsAppHost Host(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WhatsApp:SendingHours"] = "09:00-20:00",
            ["WhatsApp:BatchInterval"] = "01:00:00",
            ["WhatsApp:MessagingLimit"] = "110",
        };
        foreach (var (key, value) in more ?? []) settings[key] = value;
        var host = new WhatsAppHost(settings);
        host.Graph.MessagingLimit = null;
        return host;
    }

    [Fact]
    public async Task Nothing_goes_outside_the_sending_hours_and_within_them_the_budget_comes_in_batches()
    {
        await using var host = Host();
        host.MoveToNextBerlin(new TimeOnly(21, 0));
        var newsletter = await host.NewsletterWithContactsAsync(100);
        await host.QueueAllAsync(newsletter);
        await host.WaitUntilAsync(() => host.Graph.PhoneNumberReads >= 1, "the worker's first round");
        Assert.Equal(0, await host.RequestsAfterQuietAsync());
        host.MoveToNextBerlin(new TimeOnly(8, 59));
        Assert.Equal(0, await host.RequestsAfterQuietAsync());

        // Each hourly batch sends its 10, no further.
        for (var batch = 0; batch < 3; batch++)
        {
            host.MoveToNextBerlin(new TimeOnly(9 + batch, 0, 30));
            await host.WaitForAcceptedAsync(10 * (batch + 1));
            Assert.Equal(10 * (batch + 1), await host.RequestsAfterQuietAsync());
        }
        // Meta did not say; the setting stood in, and the page can tell why.
        var account = await host.AccountAsync();
        Assert.Null(account.MessagingLimit);
        Assert.Equal("no messaging limit in the answer", account.GraphError);
    }

    /// <summary>
    /// A queue that arrives at 16:00 with a limit of 10,000 (09:00–20:00 in quarter-hour batches: 228 each) gets one
    /// batch per quarter hour, not the 29 batches of the day so far at once.
    /// </summary>
    [Fact]
    public async Task A_queue_that_arrives_late_in_the_day_goes_out_one_batch_per_interval()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:SendingHours"] = "09:00-20:00", ["WhatsApp:BatchInterval"] = "00:15:00" });
        host.MoveToNextBerlin(new TimeOnly(16, 0, 30));
        var newsletter = await host.NewsletterWithContactsAsync(600);
        await host.QueueAllAsync(newsletter);

        for (var batch = 1; batch <= 2; batch++)
        {
            await host.WaitForAcceptedAsync(228 * batch);
            Assert.Equal(228 * batch, await host.RequestsAfterQuietAsync());
            host.Clock.Advance(TimeSpan.FromMinutes(15));
        }
        await host.WaitForAcceptedAsync(600);
        Assert.Equal(600, await host.RequestsAfterQuietAsync());
    }

    [Fact]
    public async Task STOP_replies_crossing_PauseAtObjectionRate_pause_the_queue_at_once_and_a_resume_counts_afresh_C41()
    {
        await using var host = Host(new() { ["WhatsApp:PauseAtObjectionRate"] = "0.1", ["WhatsApp:ObjectionRateMinimum"] = "10" });
        host.MoveToNextBerlin(new TimeOnly(9, 0, 30));
        var newsletter = await host.NewsletterWithContactsAsync(100);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAcceptedAsync(10);
        var invited = Invited(host);

        // One of the ten answers STOP: 10 %, the configured rate. The webhook's answer finds the queue paused.
        await host.PostWebhookAsync(FakeGraphApi.MessageWebhook(invited[0], "STOP", host.UnixNow));
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Objections, account.PauseKind);
        Assert.Contains("1 of 10 invitations", account.PauseDetail);

        // The next batch is due, and does not go.
        host.MoveToNextBerlin(new TimeOnly(10, 0, 30));
        Assert.Equal(10, await host.RequestsAfterQuietAsync());

        // An admin resumes: the count starts afresh, so the earlier STOP and a late one from the same ten do not pause again.
        await host.ResumeAsync();
        await host.WaitForAcceptedAsync(20);
        await host.PostWebhookAsync(FakeGraphApi.MessageWebhook(invited[1], "STOP", host.UnixNow));
        Assert.Equal(20, await host.RequestsAfterQuietAsync());
        Assert.Null((await host.AccountAsync()).PausedAtUtc);

        // One of the ten invited since the resume answers STOP: the rate counts from the resume, 1 of 10.
        var invitedSince = (Invited(host)).Except(invited).ToList();
        await host.PostWebhookAsync(FakeGraphApi.MessageWebhook(invitedSince[0], "Stopp", host.UnixNow));
        Assert.Equal(WhatsAppPause.Objections, (await host.AccountAsync()).PauseKind);
    }

    [Fact]
    public async Task STOP_replies_below_ObjectionRateMinimum_invitations_do_not_pause()
    {
        await using var host = Host(new() { ["WhatsApp:PauseAtObjectionRate"] = "0.1", ["WhatsApp:ObjectionRateMinimum"] = "11" });
        host.MoveToNextBerlin(new TimeOnly(9, 0, 30));
        var newsletter = await host.NewsletterWithContactsAsync(100);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAcceptedAsync(10);
        var invited = Invited(host);

        await host.PostWebhookAsync(FakeGraphApi.MessageWebhook(invited[0], "STOP", host.UnixNow));
        await host.PostWebhookAsync(FakeGraphApi.MessageWebhook(invited[1], "STOP", host.UnixNow));
        Assert.Null((await host.AccountAsync()).PausedAtUtc);
        host.MoveToNextBerlin(new TimeOnly(10, 0, 30));
        await host.WaitForAcceptedAsync(20);
        // Now 2 of 20: 10 % with enough invitations to judge; the worker's next round sees it.
        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PauseKind == WhatsAppPause.Objections), "the objection pause");
        Assert.Equal(20, await host.RequestsAfterQuietAsync());
    }

    /// <summary>The numbers Meta accepted an invitation for, as Meta writes them ("from" of a reply).</summary>
    private static List<string> Invited(WhatsAppHost host) =>
        host.Graph.Requests.Select(r => r.Body.GetProperty("to").GetString()!).Distinct().ToList();
}
