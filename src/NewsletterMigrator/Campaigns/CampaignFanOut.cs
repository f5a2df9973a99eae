using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Campaigns;

/// <summary>Campaigns whose fan-out runs in this process right now, so the worker never starts a second one beside it.</summary>
public sealed class FanOutGate
{
    private readonly ConcurrentDictionary<int, bool> _running = new();

    public bool TryEnter(int campaignId) => _running.TryAdd(campaignId, true);

    public void Exit(int campaignId) => _running.TryRemove(campaignId, out _);
}

/// <summary>
/// Writes one outbox row per confirmed subscriber of a Preparing campaign, in short transactions of
/// <see cref="SendingOptions.FanOutBatchSize"/> rows, then turns the campaign to Sending. Until then
/// the worker leases none of its rows, so a campaign is never sent half fanned out. A run after a
/// crash starts again from the first subscriber: the unique (campaign, subscriber) index skips the
/// rows already written, which costs seconds for a million and never depends on a resume point
/// that a VACUUM or a concurrent sign-up could have moved.
/// Batches are ranges of SQLite's rowid, the trailing column of the (NewsletterId, Status) index,
/// so each batch is an index range; ranges of the Guid key would scan the whole list every batch.
/// </summary>
public sealed class CampaignFanOut(
    AppDbContext db, OutboxSignal signal, IOptions<SendingOptions> sending, IOptions<AppOptions> app, TimeProvider clock, ILogger<CampaignFanOut> logger)
{
    /// <returns>The number of recipients, or null when the campaign is not (or no longer) Preparing, e.g. cancelled meanwhile.</returns>
    public Task<int?> CompleteAsync(int campaignId, CancellationToken ct = default) => CompleteAsync(campaignId, afterBatch: null, ct);

    /// <param name="afterBatch">Called after each committed batch with the rows written so far (progress; the tests stop the host here).</param>
    internal async Task<int?> CompleteAsync(int campaignId, Func<int, Task>? afterBatch, CancellationToken ct)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId)
            .Select(c => new { c.Status, c.NewsletterId, c.StartedAtUtc }).SingleAsync(ct);
        if (campaign.Status != CampaignStatus.Preparing) return null;

        var watch = Stopwatch.StartNew();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = db.Database.GetDbConnection();
            // Test mails of the campaign have no subscriber: neither the count nor the resume point sees them.
            var written = Convert.ToInt32(await ScalarAsync(connection,
                "SELECT count(*) FROM OutboundMessages WHERE CampaignId = $c AND SubscriberId IS NOT NULL", ("$c", campaignId), ct));
            if (written > 0) logger.LogWarning("Campaign {CampaignId}: completing an interrupted fan-out that had written {Rows} rows", campaignId, written);
            var after = 0L;

            var stamp = (campaign.StartedAtUtc ?? clock.GetUtcNow().UtcDateTime).ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF");
            await using var status = Command(connection, "SELECT Status FROM Campaigns WHERE Id = $c", "$c");
            await using var bound = Command(connection, $"""
                SELECT rowid FROM Subscribers
                WHERE NewsletterId = $n AND Status = {(int)SubscriberStatus.Confirmed} AND rowid > $after
                ORDER BY rowid LIMIT 1 OFFSET $skip
                """, "$n", "$after", "$skip");
            await using var insert = Command(connection, $"""
                INSERT OR IGNORE INTO OutboundMessages
                    (Kind, Priority, Status, NewsletterId, CampaignId, SubscriberId, ToAddress, Language, MessageId, Attempts, CreatedAtUtc, NextAttemptAtUtc)
                SELECT {(int)MessageKind.Campaign}, {Outbox.BulkPriority}, {(int)MessageStatus.Queued}, s.NewsletterId, $c, s.Id, s.Email, s.Language,
                       {MessageIds.SqliteSql("$host")}, 0, $stamp, $stamp
                FROM Subscribers s
                WHERE s.NewsletterId = $n AND s.Status = {(int)SubscriberStatus.Confirmed} AND s.rowid > $after AND s.rowid <= $upto
                """, "$c", "$n", "$after", "$upto", "$host", "$stamp");
            status.Parameters["$c"].Value = campaignId;
            bound.Parameters["$n"].Value = campaign.NewsletterId;
            bound.Parameters["$skip"].Value = sending.Value.FanOutBatchSize - 1;
            insert.Parameters["$c"].Value = campaignId;
            insert.Parameters["$n"].Value = campaign.NewsletterId;
            insert.Parameters["$host"].Value = app.Value.BaseUri.Host;
            insert.Parameters["$stamp"].Value = stamp;

            while (true)
            {
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                status.Transaction = bound.Transaction = insert.Transaction = transaction.GetDbTransaction();
                // Cancelled while fanning out: stop writing rows nobody will send.
                if (Convert.ToInt32(await status.ExecuteScalarAsync(ct)) != (int)CampaignStatus.Preparing) return null;
                bound.Parameters["$after"].Value = after;
                var upto = await bound.ExecuteScalarAsync(ct) is long end ? end : (long?)null;
                insert.Parameters["$after"].Value = after;
                insert.Parameters["$upto"].Value = upto ?? long.MaxValue;
                written += await insert.ExecuteNonQueryAsync(ct);
                if (upto is null)
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
                after = upto.Value;
                if (afterBatch is not null) await afterBatch(written);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static DbCommand Command(DbConnection connection, string sql, params string[] parameters) =>
        SqlCommands.Create(connection, null, sql, parameters);

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, (string Name, object Value) parameter, CancellationToken ct)
    {
        await using var command = Command(connection, sql, parameter.Name);
        command.Parameters[parameter.Name].Value = parameter.Value;
        var result = await command.ExecuteScalarAsync(ct);
        return result is DBNull ? null : result;
    }
}
