using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, point 3: each of Meta's documented answers handled as it means, whether it comes as the Graph API's answer
/// to the send or later as a "failed" status webhook.
/// </summary>
public sealed class WhatsAppAnswerTests
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);

    [Theory]
    [InlineData(130429)] // throughput of the business number
    [InlineData(131056)] // pair rate: too many messages to the same reader
    public async Task A_throughput_or_pair_rate_answer_holds_the_queue_for_SlowDownDelay_then_the_message_goes_again_without_an_attempt_counted(int code)
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:SlowDownDelay"] = "00:10:00" });
        host.Graph.Refuse(code);
        var newsletter = await host.NewsletterWithContactsAsync(3);
        await host.QueueAllAsync(newsletter);

        // The other two of the batch wait with the refused one: nothing before the delay has passed.
        await host.WaitUntilAsync(() => host.Graph.Requests.Count >= 1, "the refused request");
        Assert.Equal(1, await host.RequestsAfterQuietAsync());
        host.Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(1, await host.RequestsAfterQuietAsync());

        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.WaitForAcceptedAsync(3);
        Assert.Equal(4, await host.RequestsAfterQuietAsync());
        var messages = await host.MessagesAsync();
        Assert.All(messages, m => Assert.Equal(1, m.Attempts));
        Assert.All(messages, m => Assert.Null(m.LastErrorCode));
        Assert.Null((await host.AccountAsync()).PausedAtUtc);
    }

    [Fact]
    public async Task The_per_user_marketing_limit_answer_defers_the_message_a_day_at_most_DayDeferrals_times_then_records_it_failed()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:DayDeferrals"] = "2" });
        for (var i = 0; i < 3; i++) host.Graph.Refuse(131049);
        var newsletter = await host.NewsletterWithContactsAsync(1);
        await host.QueueAllAsync(newsletter);

        for (var deferral = 1; deferral <= 2; deferral++)
        {
            await host.WaitForAsync(db => db.WhatsAppMessages.AnyAsync(m => m.DayDeferrals == deferral), $"deferral {deferral}");
            var message = (await host.MessagesAsync()).Single();
            Assert.Equal(WhatsAppStatus.Queued, message.Status);
            Assert.Equal(131049, message.LastErrorCode);
            Assert.InRange(message.NextAttemptAtUtc - host.Now, Day - TimeSpan.FromMinutes(1), Day);
            // Not again within the day.
            Assert.Equal(deferral, await host.RequestsAfterQuietAsync());
            host.Clock.Advance(Day + TimeSpan.FromSeconds(1));
        }

        await host.WaitForAsync(db => db.WhatsAppMessages.AnyAsync(m => m.Status == WhatsAppStatus.Failed), "the message recorded failed");
        var failed = (await host.MessagesAsync()).Single();
        Assert.Equal(131049, failed.LastErrorCode);
        Assert.Equal(3, failed.Attempts);
        host.Clock.Advance(Day + TimeSpan.FromSeconds(1));
        Assert.Equal(3, await host.RequestsAfterQuietAsync());
        // Held back by Meta, not a reader who cannot be reached: the contact is not marked "not on WhatsApp".
        Assert.Null(await host.WithDbAsync(db => db.Contacts.Select(c => c.NotOnWhatsAppAtUtc).SingleAsync()));
    }

    [Fact]
    public async Task The_per_user_marketing_limit_in_a_failed_webhook_after_acceptance_defers_the_message_a_day_at_most_DayDeferrals_times()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:DayDeferrals"] = "2" });
        var newsletter = await host.NewsletterWithContactsAsync(1);
        await host.QueueAllAsync(newsletter);

        for (var send = 1; send <= 3; send++)
        {
            await host.WaitForAsync(db => db.WhatsAppMessages.AnyAsync(m => m.Status == WhatsAppStatus.Accepted), $"send {send} accepted");
            Assert.Equal(send, host.Graph.Requests.Count);
            var wamid = (await host.MessagesAsync()).Single().Wamid!;
            await host.PostWebhookAsync(FakeGraphApi.FailedWebhook(wamid, WhatsAppHost.WaId(0), host.UnixNow, 131049));
            // Meta repeats webhooks: the second copy changes nothing.
            await host.PostWebhookAsync(FakeGraphApi.FailedWebhook(wamid, WhatsAppHost.WaId(0), host.UnixNow, 131049));
            var message = (await host.MessagesAsync()).Single();
            Assert.Equal(131049, message.LastErrorCode);
            if (send == 3)
            {
                Assert.Equal(WhatsAppStatus.Failed, message.Status);
                break;
            }
            Assert.Equal(WhatsAppStatus.Queued, message.Status);
            Assert.Equal(send, message.DayDeferrals);
            Assert.Equal(send, await host.RequestsAfterQuietAsync());
            host.Clock.Advance(Day + TimeSpan.FromSeconds(1));
        }
        host.Clock.Advance(Day + TimeSpan.FromSeconds(1));
        Assert.Equal(3, await host.RequestsAfterQuietAsync());
    }

    [Fact]
    public async Task Not_a_WhatsApp_user_records_the_contact_as_not_on_WhatsApp_whether_Meta_answers_at_once_or_by_webhook()
    {
        await using var host = new WhatsAppHost();
        host.Graph.Refuse(131026);
        var newsletter = await host.NewsletterWithContactsAsync(2);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAcceptedAsync(1);
        var accepted = (await host.MessagesAsync()).Single(m => m.Status == WhatsAppStatus.Accepted);
        var phone = accepted.ContactId == (await ContactAsync(host, 0)).Id ? 0 : 1;
        await host.PostWebhookAsync(FakeGraphApi.FailedWebhook(accepted.Wamid!, WhatsAppHost.WaId(phone), host.UnixNow, 131026));

        var messages = await host.MessagesAsync();
        Assert.All(messages, m => Assert.Equal(WhatsAppStatus.Failed, m.Status));
        Assert.All(messages, m => Assert.Equal(131026, m.LastErrorCode));
        var contacts = await host.WithDbAsync(db => db.Contacts.AsNoTracking().ToListAsync());
        Assert.All(contacts, c => Assert.NotNull(c.NotOnWhatsAppAtUtc));
        // Not an objection: the numbers stay for another channel.
        Assert.All(contacts, c => Assert.NotNull(c.PhoneEncrypted));
        Assert.Equal(2, await host.RequestsAfterQuietAsync());
    }

    [Fact]
    public async Task A_reader_who_stopped_marketing_from_the_business_is_an_objection_by_answer_or_by_the_user_preferences_webhook_C41()
    {
        await using var host = new WhatsAppHost();
        var newsletter = await host.NewsletterWithContactsAsync(2);
        var first = await ContactAsync(host, 0);
        // The first queued row is the first contact's: the answer 131050 is for reader 0.
        await host.WithDbAsync(async db =>
        {
            db.WhatsAppMessages.Add(new WhatsAppMessage
            {
                ContactId = first.Id, NewsletterId = newsletter.Id, Status = WhatsAppStatus.Queued,
                CreatedAtUtc = host.Now, NextAttemptAtUtc = host.Now, RequestedBy = "test",
            });
            return await db.SaveChangesAsync();
        });
        host.Graph.Refuse(131050);
        await host.WaitForAsync(db => db.WhatsAppMessages.AnyAsync(m => m.Status == WhatsAppStatus.Failed), "the answer 131050");
        Assert.True(await host.SuppressedAsync(0));
        Assert.NotNull((await ContactAsync(host, first.Id)).ObjectedAtUtc);

        // Reader 1 chooses "stop marketing messages" in WhatsApp before the invitation is sent.
        Assert.False(await host.SuppressedAsync(1));
        await host.PostWebhookAsync(FakeGraphApi.MarketingStopWebhook(WhatsAppHost.WaId(1), host.UnixNow));
        Assert.True(await host.SuppressedAsync(1));

        // Inviting everyone now reaches no one.
        Assert.Equal(0, await host.QueueAllAsync(newsletter));
        Assert.Equal(1, await host.RequestsAfterQuietAsync());
        Assert.All(await host.WithDbAsync(db => db.Contacts.AsNoTracking().ToListAsync()), c => Assert.NotNull(c.ObjectedAtUtc));
    }

    [Fact]
    public async Task An_unknown_code_is_recorded_and_retried_a_bounded_number_of_times()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:UnknownErrorAttempts"] = "3" });
        for (var i = 0; i < 5; i++) host.Graph.Refuse(139999);
        var newsletter = await host.NewsletterWithContactsAsync(1);
        await host.QueueAllAsync(newsletter);

        await host.WaitForAsync(db => db.WhatsAppMessages.AnyAsync(m => m.Status == WhatsAppStatus.Failed), "the message recorded failed");
        var message = (await host.MessagesAsync()).Single();
        Assert.Equal(139999, message.LastErrorCode);
        Assert.Contains("139999", message.LastError);
        Assert.Equal(3, message.Attempts);
        host.Clock.Advance(Day);
        Assert.Equal(3, await host.RequestsAfterQuietAsync());
    }

    [Fact]
    public async Task PauseAfterFailuresInARow_refusals_in_a_row_pause_the_queue_with_the_last_reason()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:PauseAfterFailuresInARow"] = "3" });
        // 100: an invalid parameter, wrong for this one message only; three in a row say something is wrong with all.
        for (var i = 0; i < 10; i++) host.Graph.Refuse(100);
        var newsletter = await host.NewsletterWithContactsAsync(6);
        await host.QueueAllAsync(newsletter);

        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PausedAtUtc != null), "the pause");
        Assert.Equal(3, await host.RequestsAfterQuietAsync());
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Failures, account.PauseKind);
        Assert.Contains("3 refusals in a row", account.PauseDetail);
        Assert.Contains("error 100", account.PauseDetail);
        var messages = await host.MessagesAsync();
        Assert.Equal(3, messages.Count(m => m.Status == WhatsAppStatus.Failed));
        Assert.Equal(3, messages.Count(m => m.Status == WhatsAppStatus.Queued));
    }

    private static Task<Contact> ContactAsync(WhatsAppHost host, int i) =>
        host.WithDbAsync(db => db.Contacts.AsNoTracking().OrderBy(c => c.DisplayName).Skip(i).FirstAsync());

    private static Task<Contact> ContactAsync(WhatsAppHost host, Guid id) =>
        host.WithDbAsync(db => db.Contacts.AsNoTracking().SingleAsync(c => c.Id == id));
}
