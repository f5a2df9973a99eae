using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Data;

/// <summary>
/// Issue 18: a campaign's fan-out runs once across instances. Every instance's scheduler completes a fan-out left
/// Preparing, but only under the campaign's database lease: while another instance holds it (it is writing the rows),
/// nobody else writes them beside it; once it is free, the rows are written once and the campaign goes out.
/// </summary>
public sealed class FanOutAcrossInstancesTests
{
    [ProviderTheory, DatabaseProviders]
    public async Task While_another_instance_holds_a_campaigns_fan_out_no_scheduler_writes_its_rows_and_afterwards_each_reader_gets_one_mail(DatabaseProvider database)
    {
        const string subject = "Eilmeldung: Sperrung der A3";
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(30);
        await app.ConfirmedReadersAsync(newsletter, readers);
        var id = await app.CampaignAsync(newsletter, subject, start: false);

        // Another instance began the fan-out: it holds the lease and has turned the campaign Preparing.
        var leases = app.Service<JobLeases>();
        Assert.True(await leases.TryAcquireAsync($"fan-out:{id}", "another-instance/1", TimeSpan.FromHours(1)));
        await app.WithDbAsync(db => db.Campaigns.Where(c => c.Id == id).ExecuteUpdateAsync(u => u
            .SetProperty(c => c.Status, CampaignStatus.Preparing).SetProperty(c => c.StartedAtUtc, DateTime.UtcNow)
            .SetProperty(c => c.BodyHtml, "<p>Die A3 ist gesperrt.</p>")));

        await Task.Delay(TimeSpan.FromSeconds(1)); // five scheduler rounds (Sending:PollInterval 200 ms in the tests)
        Assert.Equal(CampaignStatus.Preparing, (await app.CampaignRowAsync(id)).Status);
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id)));

        await leases.ReleaseAsync($"fan-out:{id}", "another-instance/1");
        var campaign = await app.WaitForCampaignAsync(id, CampaignStatus.Sent, TimeSpan.FromSeconds(60));
        Assert.Equal(readers.Length, campaign.RecipientCount);
        var received = app.Smtp.Received(subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        Assert.All(received.Values, mails => Assert.Single(mails));
    }
}
