using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Campaigns;

/// <summary>
/// A campaign's fan-out runs once at a time: once in this process (an editor's start and the scheduler's completion of an
/// interrupted one), and once across instances, under a database lease per campaign (<see cref="JobLeases"/>) renewed
/// while it runs. A dead instance's fan-out is taken over by another once its lease expires (Sending:LeaseDuration, as its
/// outbox rows), and at once by the same instance when it starts again.
/// </summary>
public sealed class FanOutGate(JobLeases leases, InstanceIdentity instance, IOptions<SendingOptions> sending)
{
    private readonly ConcurrentDictionary<int, bool> _running = new();
    // One owner for the whole process: the set above keeps its attempts apart, so a lease under this instance's id and
    // another run's owner can only be an earlier run's that died.
    private readonly string _owner = instance.NewLeaseOwner();

    /// <summary>Runs <paramref name="work"/> while holding the campaign's fan-out; false (nothing run) when it runs elsewhere.</summary>
    public async Task<bool> TryRunAsync(int campaignId, Func<CancellationToken, Task> work, CancellationToken ct)
    {
        if (!_running.TryAdd(campaignId, true)) return false;
        try
        {
            return await leases.RunExclusiveAsync($"fan-out:{campaignId}", _owner, sending.Value.LeaseDuration, work, ct, instance.EarlierRunsPrefix);
        }
        finally
        {
            _running.TryRemove(campaignId, out _);
        }
    }
}

/// <summary>
/// Writes one outbox row per confirmed subscriber of a Preparing campaign, in short transactions of
/// <see cref="SendingOptions.FanOutBatchSize"/> rows, then turns the campaign to Sending. Until then
/// the worker leases none of its rows, so a campaign is never sent half fanned out. A run after a
/// crash starts again from the first subscriber: the unique (campaign, subscriber) index skips the
/// rows already written, which costs seconds for a million and never depends on a resume point
/// that a VACUUM or a concurrent sign-up could have moved.
/// Each batch is one range of an index over the newsletter's confirmed readers (<see cref="IBulkSql.OpenFanOut"/>),
/// so a batch costs the same wherever it lies in the list.
/// </summary>
public sealed class CampaignFanOut(
    AppDbContext db, IBulkSql bulk, OutboxSignal signal, IOptions<SendingOptions> sending, IOptions<AppOptions> app, TimeProvider clock, ILogger<CampaignFanOut> logger)
{
    /// <returns>The number of recipients, or null when the campaign is not (or no longer) Preparing, e.g. cancelled meanwhile.</returns>
    public Task<int?> CompleteAsync(int campaignId, CancellationToken ct = default) => CompleteAsync(campaignId, afterBatch: null, ct);

    /// <param name="afterBatch">Called after each committed batch with the rows written so far (progress; the tests stop the host here).</param>
    internal async Task<int?> CompleteAsync(int campaignId, Func<int, Task>? afterBatch, CancellationToken ct)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId)
            .Select(c => new { c.Status, c.NewsletterId, c.StartedAtUtc, c.Breaking }).SingleAsync(ct);
        if (campaign.Status != CampaignStatus.Preparing) return null;

        var watch = Stopwatch.StartNew();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // Test mails of the campaign have no subscriber: neither the count nor the resume point sees them.
            var written = await db.OutboundMessages.CountAsync(m => m.CampaignId == campaignId && m.SubscriberId != null, ct);
            if (written > 0) logger.LogWarning("Campaign {CampaignId}: completing an interrupted fan-out that had written {Rows} rows", campaignId, written);

            await using var writer = bulk.OpenFanOut(db, new FanOutSpec(campaignId, campaign.NewsletterId, app.Value.BaseUri.Host,
                campaign.StartedAtUtc ?? clock.GetUtcNow().UtcDateTime, campaign.Breaking ? Outbox.BreakingPriority : Outbox.BulkPriority, sending.Value.FanOutBatchSize));
            while (true)
            {
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                // Cancelled while fanning out: stop writing rows nobody will send.
                if (await db.Campaigns.Where(c => c.Id == campaignId).Select(c => c.Status).SingleAsync(ct) != CampaignStatus.Preparing) return null;
                var batch = await writer.WriteNextAsync(ct);
                written += batch.Written;
                if (batch.Last)
                {
                    // The last batch and the switch to Sending commit together: all rows or none are sendable.
                    var started = await db.Campaigns.Where(c => c.Id == campaignId && c.Status == CampaignStatus.Preparing)
                        .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Sending).SetProperty(c => c.RecipientCount, written), ct);
                    await transaction.CommitAsync(ct);
                    if (started == 0) return null;
                    logger.LogInformation("Campaign {CampaignId}: {Rows} outbox rows written in {Seconds:N2} s", campaignId, written, watch.Elapsed.TotalSeconds);
                    signal.Notify();
                    return written;
                }
                await transaction.CommitAsync(ct);
                if (afterBatch is not null) await afterBatch(written);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
