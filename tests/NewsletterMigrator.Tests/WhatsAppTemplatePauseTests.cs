using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, points 3 and 5: a paused, disabled or rejected template pauses the whole queue with the reason stored;
/// the queue never keeps sending into failures, and Meta approving the template again resumes it.
/// </summary>
public sealed class WhatsAppTemplatePauseTests
{
    [Theory]
    [InlineData("PAUSED", 132015)]
    [InlineData("DISABLED", 132016)]
    public async Task A_template_Meta_refuses_as_paused_stops_the_queue_at_the_first_refusal_and_its_approval_resumes_it(string status, int code)
    {
        await using var host = new WhatsAppHost();
        host.Graph.TemplateStatus = status;
        var newsletter = await host.NewsletterWithContactsAsync(10);
        await host.QueueAllAsync(newsletter);

        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PausedAtUtc != null), "the pause");
        // Exactly one request met the refusal; none followed it into the same failure.
        Assert.Equal(1, await host.RequestsAfterQuietAsync());
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Template, account.PauseKind);
        Assert.Contains(code.ToString(), account.PauseDetail);
        // The message that met it waits in the queue as it was, with the reason: not failed, no attempt counted.
        var messages = await host.MessagesAsync();
        Assert.All(messages, m => Assert.Equal(WhatsAppStatus.Queued, m.Status));
        var met = messages.Single(m => m.LastErrorCode is not null);
        Assert.Equal(code, met.LastErrorCode);
        Assert.Equal(0, met.Attempts);

        // Meta approves the template again (message_template_status_update): the queue resumes by itself.
        host.Graph.TemplateStatus = "APPROVED";
        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("APPROVED"));
        await host.WaitForAcceptedAsync(10);
        Assert.Equal(11, await host.RequestsAfterQuietAsync());
        Assert.Null((await host.AccountAsync()).PausedAtUtc);
    }

    [Fact]
    public async Task The_template_paused_webhook_stops_a_running_batch_before_its_next_message_and_the_approved_one_resumes_it()
    {
        // 20 messages a second: a batch of 50 takes two and a half seconds, time for the webhook to arrive in its middle.
        await using var host = new WhatsAppHost(new() { ["WhatsApp:MessagesPerSecond"] = "20" });
        var newsletter = await host.NewsletterWithContactsAsync(100);
        await host.QueueAllAsync(newsletter);
        await host.WaitUntilAsync(() => host.Graph.Requests.Count >= 5, "the batch under way");

        // Meta pauses the template and says so. Its answers to messages may lag behind (the fake goes on accepting): the
        // webhook alone must stop the queue.
        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("PAUSED", reason: "LOW_QUALITY"));
        var atPause = host.Graph.Requests.Count;
        Assert.True(atPause < 50, $"the batch was over before the webhook ({atPause} sent); the test proves nothing");
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Template, account.PauseKind);
        Assert.Equal("template newsletter_umzug (de) PAUSED: LOW_QUALITY", account.PauseDetail);

        // At most the one message already on its way when the pause was written; then nothing.
        var after = await host.RequestsAfterQuietAsync();
        Assert.InRange(after, atPause, atPause + 1);
        var messages = await host.MessagesAsync();
        Assert.DoesNotContain(messages, m => m.Status is WhatsAppStatus.Failed or WhatsAppStatus.Leased);
        // Whatever had not been accepted is back in the queue, the one that met a refusal included.
        Assert.Equal(100, messages.Count(m => m.Status is WhatsAppStatus.Accepted or WhatsAppStatus.Queued));

        // Another language of the same name is another template: its approval resumes nothing.
        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("APPROVED", language: "en_US"));
        Assert.Equal(after, await host.RequestsAfterQuietAsync());

        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("APPROVED"));
        await host.WaitForAcceptedAsync(100);
        Assert.Equal(100, await host.WithDbAsync(db => db.WhatsAppMessages.CountAsync(m => m.Status == WhatsAppStatus.Accepted)));
    }

    /// <summary>
    /// Objections that come in while the queue is paused for the template still count when Meta approves it again: the
    /// automatic resume keeps the count (only an admin's resume starts it afresh), so the queue pauses for the objections.
    /// </summary>
    [Fact]
    public async Task Objections_during_a_template_pause_still_count_after_Meta_approves_the_template_again()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:ObjectionRateMinimum"] = "5", ["WhatsApp:PauseAtObjectionRate"] = "0.2" });
        host.Graph.Accept(5);
        host.Graph.Refuse(132015);
        var newsletter = await host.NewsletterWithContactsAsync(10);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PauseKind == WhatsAppPause.Template), "the template pause");
        Assert.Equal(6, await host.RequestsAfterQuietAsync());

        // Two of the five invited readers answer STOP while the queue stands: 40 % of the day's invitations.
        foreach (var invited in host.Graph.Requests.Take(2))
            await host.PostWebhookAsync(FakeGraphApi.MessageWebhook(invited.Body.GetProperty("to").GetString()!, "STOP", host.UnixNow));
        Assert.Equal(WhatsAppPause.Template, (await host.AccountAsync()).PauseKind);

        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("APPROVED"));
        Assert.Equal(6, await host.RequestsAfterQuietAsync());
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Objections, account.PauseKind);
        Assert.StartsWith("2 of 5 invitations", account.PauseDetail);

        // An admin who has looked at it resumes: objections count afresh and the rest go out.
        await host.ResumeAsync();
        await host.WaitForAcceptedAsync(10);
    }

    /// <summary>
    /// Template set-up errors (parameter count, a template or language Meta does not know …) are ours to fix: the queue
    /// pauses as "set-up", Meta approving the template changes nothing, and only an admin resumes it.
    /// </summary>
    [Theory]
    [InlineData(132000)]
    [InlineData(132001)]
    public async Task A_template_set_up_error_pauses_the_queue_until_an_admin_resumes_it_not_until_Meta_approves_the_template(int code)
    {
        await using var host = new WhatsAppHost();
        host.Graph.Refuse(code);
        var newsletter = await host.NewsletterWithContactsAsync(3);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PausedAtUtc != null), "the pause");
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Setup, account.PauseKind);
        Assert.Contains(code.ToString(), account.PauseDetail);
        var dashboard = await (await host.App.EditorAsync()).GetStringAsync("/admin");
        Assert.Contains("Einrichtung: Vorlage oder Parameter passen nicht zur Einstellung", dashboard);

        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("APPROVED"));
        Assert.Equal(1, await host.RequestsAfterQuietAsync());
        Assert.Equal(WhatsAppPause.Setup, (await host.AccountAsync()).PauseKind);

        await host.ResumeAsync();
        await host.WaitForAcceptedAsync(3);
    }

    [Fact]
    public void Only_paused_or_disabled_templates_are_template_pauses_the_other_template_codes_are_set_up_errors()
    {
        Assert.Equal(WhatsAppPause.Template, WhatsAppErrors.PauseKindFor(132015));
        Assert.Equal(WhatsAppPause.Template, WhatsAppErrors.PauseKindFor(132016));
        foreach (var code in new[] { 132000, 132001, 132005, 132007, 132012 })
            Assert.Equal(WhatsAppPause.Setup, WhatsAppErrors.PauseKindFor(code));
        Assert.Equal(WhatsAppPause.Account, WhatsAppErrors.PauseKindFor(190));
        Assert.Equal(WhatsAppPause.Account, WhatsAppErrors.PauseKindFor(null));
        // Every template code of the table is one or the other.
        Assert.All(WhatsAppErrors.Table.Where(e => e.Code is >= 132000 and < 133000),
            e => Assert.Contains(WhatsAppErrors.PauseKindFor(e.Code), new[] { WhatsAppPause.Template, WhatsAppPause.Setup }));
    }
}
