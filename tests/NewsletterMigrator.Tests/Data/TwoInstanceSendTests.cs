using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Data;

/// <summary>
/// Issue 18, point 4: two app hosts on one database, as two servers behind a load balancer, send one campaign. Each
/// delivers through its own SMTP server here, so the test sees who sent what.
/// </summary>
public sealed class TwoInstanceSendTests
{
    private const string Subject = "Eilmeldung: Hochwasser am Rhein";
    private const int Readers = 5_000;

    /// <summary>Short leases, so the rows a killed host held come back within the test.</summary>
    private static Dictionary<string, string?> Settings(TestSmtpServer? smtp = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sending:LeaseDuration"] = "00:00:05",
            ["Sending:BatchSize"] = "100",
            ["Smtp:MaxConnections"] = "2",
        };
        if (smtp is not null) settings["Smtp:Port"] = smtp.Port.ToString();
        return settings;
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Two_instances_send_one_campaign_to_5000_readers_each_reader_gets_exactly_one_mail_and_both_instances_sent_some(DatabaseProvider database)
    {
        await using var first = new AppFactory(settings: Settings(), provider: database);
        await using var secondSmtp = new TestSmtpServer();
        await using var second = new AppFactory(settings: Settings(secondSmtp), reuse: first, ownDataFolder: true);
        var readers = await ConfirmedReadersAsync(first);
        _ = second.Services; // both hosts run their workers before the campaign starts

        var campaign = await first.CampaignAsync(await TheNewsletterAsync(first), Subject);
        await first.WaitForCampaignAsync(campaign, CampaignStatus.Sent, TimeSpan.FromMinutes(5));

        var byFirst = first.Smtp.Received(Subject);
        var bySecond = secondSmtp.Received(Subject);
        Assert.NotEmpty(byFirst);
        Assert.NotEmpty(bySecond);
        Assert.Empty(byFirst.Keys.Intersect(bySecond.Keys));
        Assert.All(byFirst.Values.Concat(bySecond.Values), mails => Assert.Single(mails));
        Assert.Equal(readers.Order(), byFirst.Keys.Concat(bySecond.Keys).Order());
    }

    [ProviderTheory, DatabaseProviders]
    public async Task When_one_of_two_instances_dies_mid_send_the_other_finishes_and_only_rows_in_flight_go_twice_with_the_same_Message_ID(DatabaseProvider database)
    {
        await using var first = new AppFactory(settings: Settings(), provider: database);
        await using var secondSmtp = new TestSmtpServer();
        await using var second = new AppFactory(settings: Settings(secondSmtp), reuse: first, ownDataFolder: true);
        var readers = await ConfirmedReadersAsync(first);
        _ = second.Services;

        var campaign = await first.CampaignAsync(await TheNewsletterAsync(first), Subject);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (first.Smtp.Received(Subject).Count < 300 && DateTime.UtcNow < deadline) await Task.Delay(20);
        // The crash: the host stops; what it had leased stays leased, as after kill -9, until the lease expires.
        await first.StopHostAsync();
        Assert.True(first.Smtp.Received(Subject).Count + secondSmtp.Received(Subject).Count < Readers, "the campaign was out before the crash; the test proves nothing");
        await second.WaitForCampaignAsync(campaign, CampaignStatus.Sent, TimeSpan.FromMinutes(5));

        var byFirst = first.Smtp.Received(Subject);
        var bySecond = secondSmtp.Received(Subject);
        Assert.Equal(readers.Order(), byFirst.Keys.Union(bySecond.Keys).Order());
        Assert.NotEmpty(bySecond);
        // A duplicate is a row the dead host had in hand: at most one batch, and recognisable by its Message-ID.
        var twice = byFirst.Keys.Intersect(bySecond.Keys).ToList();
        Assert.True(twice.Count <= 100, $"{twice.Count} readers got the mail twice; only the dead host's batch may go twice");
        Assert.All(twice, reader => Assert.Equal(byFirst[reader].Single().MessageId, bySecond[reader].Single().MessageId));
        Assert.All(byFirst.Values.Concat(bySecond.Values), mails => Assert.Single(mails));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Two_instances_under_an_hourly_cap_send_no_more_than_the_cap_together(DatabaseProvider database)
    {
        const int cap = 150;
        // Each instance's rate limit stretches a batch of 100 to about half a second, so the other one leases while the
        // first still has rows in flight: counted only by what was sent, both would take the cap's rest at once.
        Dictionary<string, string?> Capped(TestSmtpServer? smtp = null)
        {
            var settings = Settings(smtp);
            settings["Smtp:MessagesPerHour"] = cap.ToString();
            settings["Smtp:MessagesPerSecond"] = "200";
            return settings;
        }
        await using var first = new AppFactory(settings: Capped(), provider: database);
        await using var secondSmtp = new TestSmtpServer();
        await using var second = new AppFactory(settings: Capped(secondSmtp), reuse: first, ownDataFolder: true);
        await ConfirmedReadersAsync(first, 1_000);
        _ = second.Services;

        await first.CampaignAsync(await TheNewsletterAsync(first), Subject);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline && !await first.WithDbAsync(async db =>
                   await db.OutboundMessages.CountAsync(m => m.Status == MessageStatus.Sent) >= cap
                   && !await db.OutboundMessages.AnyAsync(m => m.Status == MessageStatus.Leased)))
            await Task.Delay(50);
        await Task.Delay(TimeSpan.FromSeconds(1)); // five poll intervals of each instance: time to go over the cap, if they could

        Assert.Equal(cap, first.Smtp.Received(Subject).Count + secondSmtp.Received(Subject).Count);
        Assert.Equal(1_000 - cap, await first.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Status == MessageStatus.Queued)));
    }

    private static async Task<Newsletter> TheNewsletterAsync(AppFactory app) =>
        await app.WithDbAsync(db => db.Newsletters.SingleAsync());

    /// <summary>Confirmed readers (5,000 unless told) written straight into the table: how they got there is tested elsewhere (C1, C2).</summary>
    private static async Task<string[]> ConfirmedReadersAsync(AppFactory app, int count = Readers)
    {
        var newsletter = await app.NewsletterAsync();
        var addresses = SendingTestData.Addresses(count);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = DateTime.UtcNow;
        db.Subscribers.AddRange(addresses.Select(email => new Subscriber
        {
            Id = Guid.NewGuid(),
            NewsletterId = newsletter.Id,
            Email = email,
            EmailKey = EmailAddress.Key(email),
            Language = "de",
            Status = SubscriberStatus.Confirmed,
            UnsubscribeTokenHash = RandomNumberGenerator.GetBytes(32),
            CreatedAtUtc = now,
            ConfirmedAtUtc = now,
        }));
        await db.SaveChangesAsync();
        return addresses;
    }
}
