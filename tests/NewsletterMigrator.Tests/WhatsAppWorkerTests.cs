using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The sending side of issue 14 across instances: a batch keeps its leases while it runs, a throughput answer quiets
/// every instance, and a RED rating stops the worker whatever paused or resumed the queue.
/// </summary>
public sealed class WhatsAppWorkerTests
{
    /// <summary>
    /// A batch of 50 at 10 a second takes 5 seconds; the clock runs 30 times faster meanwhile, so a lease of one minute
    /// taken at the batch's start is over after 2 seconds. A second instance on the same database would take the rest of
    /// the batch, and both would send it.
    /// </summary>
    [Fact]
    public async Task A_batch_that_outlasts_its_lease_keeps_its_rows_and_a_second_instance_sends_none_of_them_again()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:MessagesPerSecond"] = "10", ["WhatsApp:LeaseDuration"] = "00:01:00" });
        var newsletter = await host.NewsletterWithContactsAsync(60);
        host.StartAnother();
        await host.QueueAllAsync(newsletter);

        using var stop = new CancellationTokenSource();
        var clockRuns = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(100);
                host.Clock.Advance(TimeSpan.FromSeconds(3));
            }
        });
        try
        {
            await host.WaitForAcceptedAsync(60);
            Assert.Equal(60, await host.RequestsAfterQuietAsync());
        }
        finally
        {
            await stop.CancelAsync();
            await clockRuns;
        }
        var to = host.Graph.Requests.Select(r => r.Body.GetProperty("to").GetString()).ToList();
        Assert.Equal(to.Count, to.Distinct().Count());
        Assert.All(await host.MessagesAsync(), m => Assert.Equal(WhatsAppStatus.Accepted, m.Status));
    }

    /// <summary>
    /// 130429 is the business number's throughput, not one process's: the instance that did not get the answer holds back
    /// as well (the first to reserve leases all ten; the other would take the nine released ones at once).
    /// </summary>
    [Fact]
    public async Task A_throughput_answer_to_one_instance_quiets_every_instance_until_SlowDownDelay_has_passed()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:SlowDownDelay"] = "00:10:00" });
        var newsletter = await host.NewsletterWithContactsAsync(10);
        host.StartAnother();
        host.Graph.Refuse(130429);
        await host.QueueAllAsync(newsletter);

        await host.WaitUntilAsync(() => host.Graph.Requests.Count >= 1, "the refused request");
        Assert.Equal(1, await host.RequestsAfterQuietAsync());
        Assert.InRange((await host.AccountAsync()).QuietUntilUtc!.Value - host.Now, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        host.Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(1, await host.RequestsAfterQuietAsync());

        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await host.WaitForAcceptedAsync(10);
        Assert.Equal(11, await host.RequestsAfterQuietAsync());
    }

    /// <summary>
    /// A RED rating without a pause (no admin can resume while RED, but the row may say so, e.g. after a restore): the worker
    /// itself pauses and sends nothing. The Graph fake gives no rating here, so only the worker's own check can stop it.
    /// </summary>
    [Fact]
    public async Task A_RED_rating_without_a_pause_makes_the_worker_pause_and_send_nothing()
    {
        await using var host = new WhatsAppHost();
        host.Graph.QualityRating = null;
        var newsletter = await host.NewsletterWithContactsAsync(5);
        await host.WithDbAsync(db => db.WhatsAppAccounts.ExecuteUpdateAsync(u => u.SetProperty(a => a.QualityRating, "RED")));
        await host.QueueAllAsync(newsletter);

        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.PauseKind == WhatsAppPause.Quality && a.PauseDetail == "quality rating RED"),
            "the worker's own quality pause");
        Assert.Equal(0, await host.RequestsAfterQuietAsync());
    }
}
