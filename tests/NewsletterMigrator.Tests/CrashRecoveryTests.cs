using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The host stops in the middle of a send and a new one starts on the same database and master key:
/// every reader ends with exactly one mail, or a duplicate carrying the same Message-ID; none is lost.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const string Subject = "Eilmeldung: Stromausfall in der Innenstadt";

    [ProviderTheory, DatabaseProviders]
    public async Task Stopping_the_host_mid_send_and_starting_a_new_one_loses_no_mail_and_duplicates_keep_their_message_id(DatabaseProvider database)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Smtp:MaxConnections"] = "3",
            ["Sending:BatchSize"] = "20",
            ["Sending:LeaseDuration"] = "00:00:02",
        };
        await using var first = new AppFactory(settings: settings, provider: database);
        var newsletter = await first.NewsletterAsync();
        var readers = SendingTestData.Addresses(60);
        await first.ConfirmedReadersAsync(newsletter, readers);
        first.Smtp.Delay = TimeSpan.FromMilliseconds(40);

        var id = await first.CampaignAsync(newsletter, Subject);
        await SendingEngineTests.WaitUntilAsync(() => first.Smtp.Received(Subject).Count >= 15);
        await first.StopHostAsync();
        var beforeRestart = first.Smtp.Received(Subject).Sum(r => r.Value.Count);
        Assert.True(beforeRestart < readers.Length, "the send finished before the host stopped; the test proves nothing");

        await using var second = new AppFactory(settings: settings, reuse: first);
        await second.WaitForCampaignAsync(id, CampaignStatus.Sent, TimeSpan.FromSeconds(60));

        var rows = await second.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Where(m => m.CampaignId == id).ToListAsync());
        var received = second.Smtp.Received(Subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        foreach (var row in rows)
        {
            Assert.Equal(MessageStatus.Sent, row.Status);
            var mails = received[row.ToAddress];
            Assert.All(mails, m => Assert.Equal(row.MessageId, m.MessageId));
        }
    }

    [ProviderTheory, DatabaseProviders]
    public async Task A_host_stopping_in_the_middle_of_the_fan_out_sends_nothing_early_and_the_next_host_completes_one_row_per_reader(DatabaseProvider database)
    {
        const string subject = "Eilmeldung: Hochwasser am Rhein";
        var settings = new Dictionary<string, string?> { ["Sending:FanOutBatchSize"] = "4" };
        await using var first = new AppFactory(settings: settings, provider: database);
        var newsletter = await first.NewsletterAsync();
        var readers = SendingTestData.Addresses(22);
        await first.ConfirmedReadersAsync(newsletter, readers);
        var id = await first.CampaignAsync(newsletter, subject, start: false);

        var rowsAtStop = -1;
        await using (var scope = first.Services.CreateAsyncScope())
        {
            var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
            var stopped = await Assert.ThrowsAnyAsync<Exception>(() => campaigns.StartAsync(newsletter.Id, id, "redaktion@example.test", async written =>
            {
                if (written < 8) return;
                // Two batches are committed and the worker keeps polling: it must not touch the campaign yet.
                await Task.Delay(TimeSpan.FromSeconds(1));
                Assert.Equal(CampaignStatus.Preparing, (await first.CampaignRowAsync(id)).Status);
                Assert.Empty(first.Smtp.Received(subject));
                rowsAtStop = await first.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id));
                await first.StopHostAsync();
                throw new OperationCanceledException("the host went down in the middle of the fan-out");
            }, CancellationToken.None));
            Assert.IsType<OperationCanceledException>(stopped);
        }
        Assert.Equal(8, rowsAtStop);
        Assert.Empty(first.Smtp.Received(subject));

        await using var second = new AppFactory(settings: settings, reuse: first);
        var campaign = await second.WaitForCampaignAsync(id, CampaignStatus.Sent, TimeSpan.FromSeconds(60));

        Assert.Equal(readers.Length, campaign.RecipientCount);
        var rows = await second.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Where(m => m.CampaignId == id).ToListAsync());
        Assert.Equal(readers.Order(), rows.Select(r => r.ToAddress).Order());
        Assert.Equal(readers.Length, rows.Select(r => r.SubscriberId).Distinct().Count());
        var received = second.Smtp.Received(subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        Assert.All(received.Values, mails => Assert.Single(mails));
    }
}
