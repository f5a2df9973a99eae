using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

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
}
