using System.Net;
using MailKit.Net.Smtp;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>The delivery worker against a real SMTP server that misbehaves on purpose.</summary>
public sealed class SendingEngineTests
{
    private const string Subject = "Eilmeldung: Brücke gesperrt";

    private static Dictionary<string, string?> Fast(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sending:FirstRetryDelay"] = "00:00:00.500",
            ["Sending:MaxRetryDelay"] = "00:00:05",
            ["Sending:LeaseDuration"] = "00:00:03",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Every_confirmed_reader_gets_exactly_one_mail_with_a_stable_message_id(DatabaseProvider database)
    {
        await using var app = new AppFactory(settings: Fast(), provider: database);
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(25);
        await app.ConfirmedReadersAsync(newsletter, readers);

        var id = await app.CampaignAsync(newsletter, Subject);
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);

        var received = app.Smtp.Received(Subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        Assert.All(received.Values, mails => Assert.Single(mails));
        var rows = await app.WithDbAsync(db => db.OutboundMessages.Where(m => m.CampaignId == id).ToListAsync());
        Assert.All(rows, r => Assert.Equal(MessageStatus.Sent, r.Status));
        Assert.Equal(rows.Select(r => "<" + r.MessageId + ">").Order(), received.Values.Select(m => "<" + m[0].MessageId + ">").Order());
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Unknown_mailbox_at_rcpt_fails_the_row_marks_the_reader_bounced_and_suppresses_the_address_C37(DatabaseProvider database)
    {
        await using var app = new AppFactory(settings: Fast(), provider: database);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "gone@example.test", "here@example.test");
        app.Smtp.RefuseAtRcpt["gone@example.test"] = TestSmtpServer.Reply(550, "5.1.1 <gone@example.test>: Recipient address rejected: User unknown");

        var id = await app.CampaignAsync(newsletter, Subject);
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);

        Assert.Equal(["here@example.test"], app.Smtp.Received(Subject).Keys);
        var row = await app.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.CampaignId == id && m.ToAddress == "gone@example.test"));
        Assert.Equal(MessageStatus.Failed, row.Status);
        Assert.Contains("5.1.1", row.LastReply);
        Assert.DoesNotContain("gone@example.test", row.LastReply); // replies are redacted before they are stored
        var gone = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "gone@example.test"));
        Assert.Equal(SubscriberStatus.Bounced, gone.Status);
        var hash = SuppressionHash.Email(app.Service<KeyRing>(), "gone@example.test");
        Assert.True(await app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Hash == hash)));
        Assert.Equal(SubscriberStatus.Confirmed, (await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "here@example.test"))).Status);
    }

    [Fact]
    public async Task Sender_refusal_pauses_the_campaign_and_suppresses_nobody_C37()
    {
        await using var app = new AppFactory(settings: Fast());
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(5);
        await app.ConfirmedReadersAsync(newsletter, readers);
        app.Smtp.RefuseSender = TestSmtpServer.Reply(550, "5.7.1 Sender address rejected: not owned by user");

        var id = await app.CampaignAsync(newsletter, Subject);
        var paused = await app.WaitForCampaignAsync(id, CampaignStatus.Paused);

        Assert.Contains("5.7.1", paused.PauseReason);
        Assert.Empty(app.Smtp.Received(Subject));
        Assert.False(await app.WithDbAsync(db => db.Suppressions.AnyAsync()));
        Assert.False(await app.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.Status != SubscriberStatus.Confirmed)));
        Assert.False(await app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.CampaignId == id && m.Status == MessageStatus.Failed)));

        // Fixed on the server side: resuming delivers to everyone.
        app.Smtp.RefuseSender = null;
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, id, "redaktion@example.test"));
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        Assert.Equal(readers.Order(), app.Smtp.Received(Subject).Keys.Order());
    }

    [Theory]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 550, "5.1.1 User unknown", true, false)]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 550, "5.1.2 Bad destination system address", true, false)]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 553, "5.1.3 Bad destination mailbox address syntax", true, false)]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 550, "5.1.6 Mailbox has moved", true, false)]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 550, "5.7.1 Relaying denied", false, true)]
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 550, "5.1.8 Bad sender's system address", false, true)]
    [InlineData(SmtpErrorCode.SenderNotAccepted, 550, "5.1.7 Bad sender's mailbox address syntax", false, true)]
    [InlineData(SmtpErrorCode.MessageNotAccepted, 554, "5.7.1 Message rejected as spam", false, true)]
    [InlineData(SmtpErrorCode.MessageNotAccepted, 550, "5.1.1 User unknown", false, false)] // not at RCPT TO
    [InlineData(SmtpErrorCode.RecipientNotAccepted, 550, "No such user", false, false)] // no enhanced code: fail, never suppress
    public void Smtp_replies_are_classified_recipient_or_sender_side_C37(SmtpErrorCode errorCode, int code, string text, bool recipient, bool sender)
    {
        var result = SmtpTransport.Classify(errorCode, code, text);
        Assert.Equal(DeliveryOutcome.PermanentFailure, result.Outcome);
        Assert.Equal(recipient, result.RecipientRejected);
        Assert.Equal(sender, result.SenderRejected);
        Assert.Equal(DeliveryOutcome.TemporaryFailure, SmtpTransport.Classify(errorCode, 451, "4.3.0 try again").Outcome);
    }

    [Fact]
    public async Task Temporary_refusal_is_retried_with_growing_back_off_then_delivered()
    {
        await using var app = new AppFactory(settings: Fast(("Sending:FirstRetryDelay", "00:00:01"), ("Sending:RetryBackoffFactor", "2")));
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "greylist@example.test");
        app.Smtp.Refuse["greylist@example.test"] = TestSmtpServer.Reply(451, "4.7.1 Greylisted, try again later");
        var doiAttempts = app.Smtp.Attempts["greylist@example.test"];

        var id = await app.CampaignAsync(newsletter, Subject);
        var first = await WaitForRowAsync(app, id, r => r.Attempts == 1 && r.Status == MessageStatus.Queued);
        var second = await WaitForRowAsync(app, id, r => r.Attempts == 2 && r.Status == MessageStatus.Queued);
        app.Smtp.Refuse.Clear();
        var sent = await WaitForRowAsync(app, id, r => r.Status == MessageStatus.Sent);

        Assert.Contains("451", first.LastReply);
        // Attempt 2 waits 1 s, attempt 3 waits 2 s: the second wait starts after the first ended.
        Assert.True(second.NextAttemptAtUtc - first.NextAttemptAtUtc >= TimeSpan.FromSeconds(1.9),
            $"back-off did not grow: {first.NextAttemptAtUtc:O} then {second.NextAttemptAtUtc:O}");
        Assert.Equal(3, sent.Attempts);
        Assert.Equal(3, app.Smtp.Attempts["greylist@example.test"] - doiAttempts);
        Assert.Single(app.Smtp.Received(Subject)["greylist@example.test"]);
    }

    [Fact]
    public async Task Permanent_refusal_at_data_fails_the_row_without_suppressing()
    {
        await using var app = new AppFactory(settings: Fast());
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "full@example.test", "fine@example.test");
        app.Smtp.Refuse["full@example.test"] = TestSmtpServer.Reply(552, "5.2.2 Mailbox full");

        var id = await app.CampaignAsync(newsletter, Subject);
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);

        var row = await app.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.CampaignId == id && m.ToAddress == "full@example.test"));
        Assert.Equal(MessageStatus.Failed, row.Status);
        Assert.Equal(1, row.Attempts);
        Assert.False(await app.WithDbAsync(db => db.Suppressions.AnyAsync()));
    }

    [Fact]
    public async Task Dropped_connections_are_retried_and_nobody_is_missed()
    {
        await using var app = new AppFactory(settings: Fast());
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(12);
        await app.ConfirmedReadersAsync(newsletter, readers);
        app.Smtp.DropNext(4);

        var id = await app.CampaignAsync(newsletter, Subject);
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);

        var received = app.Smtp.Received(Subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        Assert.All(received.Values, mails => Assert.Single(mails));
        var retried = await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.Attempts > 1));
        Assert.True(retried >= 1, "no row needed a second attempt, so no connection was dropped");
    }

    [Fact]
    public async Task Smtp_down_pauses_the_campaign_with_the_reason_and_resume_delivers_everything()
    {
        await using var app = new AppFactory(settings: Fast(("Sending:PauseAfterConsecutiveFailures", "3")));
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(10);
        await app.ConfirmedReadersAsync(newsletter, readers);
        await app.Smtp.StopAsync();

        var id = await app.CampaignAsync(newsletter, Subject);
        var paused = await app.WaitForCampaignAsync(id, CampaignStatus.Paused);
        Assert.Contains("3 consecutive failures", paused.PauseReason);
        Assert.Contains("connection", paused.PauseReason);

        // The editor sees why on the progress endpoint.
        var staff = await StaffClientAsync(app);
        var json = await staff.GetStringAsync($"/admin/campaigns/{newsletter.Id}/progress/{id}");
        Assert.Contains("3 consecutive failures", json);

        app.Smtp.Start();
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, id, "redaktion@example.test"));
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        var received = app.Smtp.Received(Subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        Assert.All(received.Values, mails => Assert.Single(mails));
        Assert.Null((await app.CampaignRowAsync(id)).PauseReason);
    }

    [Fact]
    public async Task Hourly_cap_holds_back_what_exceeds_it()
    {
        // The 10 DOI mails of the sign-ups count too: 10 + 2 campaign mails reach the cap of 12.
        await using var app = new AppFactory(settings: Fast(("Smtp:MessagesPerHour", "12")));
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, SendingTestData.Addresses(10));

        var id = await app.CampaignAsync(newsletter, Subject);
        await WaitUntilAsync(() => app.Smtp.Received(Subject).Count >= 2);
        await Task.Delay(1500); // several poll intervals: nothing more may leave

        Assert.Equal(2, app.Smtp.Received(Subject).Count);
        Assert.Equal(8, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.Status == MessageStatus.Queued)));
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(id)).Status);
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Unsubscribe_during_a_send_stops_the_mail_already_leased_C13(DatabaseProvider database)
    {
        await using var app = new AppFactory(settings: Fast(("Smtp:MaxConnections", "1")), provider: database);
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(6);
        await app.ConfirmedReadersAsync(newsletter, readers);
        app.Smtp.Delay = TimeSpan.FromMilliseconds(300);

        var id = await app.CampaignAsync(newsletter, Subject);
        await WaitUntilAsync(() => app.Smtp.Received(Subject).Count >= 1);
        var lastAddress = readers[^1];
        var last = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == lastAddress));
        var leased = await app.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.CampaignId == id && m.SubscriberId == last.Id));
        Assert.Equal(MessageStatus.Leased, leased.Status); // the whole batch is leased; the check must happen again before sending

        var token = app.Service<TokenService>().Create(TokenPurpose.Unsubscribe, last.Id, last.TokenGeneration);
        var response = await app.CreateClient().PostAsync($"/u/{token}", new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        var received = app.Smtp.Received(Subject);
        Assert.DoesNotContain(readers[^1], received.Keys);
        Assert.Equal(readers.Length - 1, received.Count);
        Assert.Equal(MessageStatus.Cancelled, (await app.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.Id == leased.Id))).Status);
    }

    internal static async Task<HttpClient> StaffClientAsync(AppFactory app)
    {
        await app.StaffAsync("redaktion@example.test", "correct horse battery", "Admin");
        var client = app.CreateClient();
        await client.SignInAsync("redaktion@example.test", "correct horse battery");
        return client;
    }

    private static async Task<OutboundMessage> WaitForRowAsync(AppFactory app, int campaignId, Func<OutboundMessage, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var row = await app.WithDbAsync(db => db.OutboundMessages.AsNoTracking().SingleAsync(m => m.CampaignId == campaignId));
            if (match(row)) return row;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Row is {row.Status} after {row.Attempts} attempt(s): {row.LastReply}");
            await Task.Delay(50);
        }
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not become true.");
            await Task.Delay(50);
        }
    }
}
