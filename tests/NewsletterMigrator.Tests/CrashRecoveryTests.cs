using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The host stops in the middle of a send and a new one starts on the same database and master key:
/// every reader ends with exactly one mail, or a duplicate carrying the same Message-ID; none is lost.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const string Subject = "Eilmeldung: Stromausfall in der Innenstadt";

    [Fact]
    public async Task Stopping_the_host_mid_send_and_starting_a_new_one_loses_no_mail_and_duplicates_keep_their_message_id()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Smtp:MaxConnections"] = "3",
            ["Sending:BatchSize"] = "20",
            ["Sending:LeaseDuration"] = "00:00:02",
        };
        await using var first = new AppFactory(settings: settings);
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
}
