using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Takes the outbox rows a worker chose, each only if it is still due (queued and due, or leased with
/// an expired lease; a campaign row only while its campaign is sending), so two workers never hold
/// the same row.
/// One prepared UPDATE per row by primary key, in one transaction: a single UPDATE with `Id IN (…)`
/// let SQLite pick the (status, priority, next attempt) index instead and walk every queued row for
/// each batch of 500. With a million rows queued that cost a third of the sending rate (791 instead
/// of 1,176 messages per second in the send benchmark).
/// </summary>
internal static class OutboxLease
{
    public static async Task TakeAsync(AppDbContext db, IReadOnlyList<long> ids, string owner, DateTime now, DateTime expires, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await using var update = Prepare(db.Database.GetDbConnection(), transaction.GetDbTransaction(), owner, now, expires);
            foreach (var id in ids)
            {
                update.Parameters["$id"].Value = id;
                await update.ExecuteNonQueryAsync(ct); // 0 rows: another worker took it meanwhile, or it is no longer due
            }
            await transaction.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Returns to the queue the rows an earlier run of this instance still held when it died, so they go
    /// out now rather than after <see cref="Common.SendingOptions.LeaseDuration"/>. Called once at start,
    /// before this run leases anything; leases of other instances are left to expire.
    /// Such a row was in one of three states when the process died: not yet tried; accepted by the SMTP
    /// server but its result not yet written (<see cref="DeliveryResults"/> writes in batches); or in the
    /// middle of its SMTP transaction, where the server may have taken the DATA just before the process
    /// died and nobody can know. None of them is marked Sent, and nothing tells them apart afterwards, so
    /// each is sent again with its stable Message-ID: the same rows and the same recognisable duplicate
    /// as when the lease expires, only without the wait. A row recorded as Sent is never leased, so mail
    /// known to be delivered never goes twice. Attempts are not counted, as on expiry.
    /// </summary>
    public static Task<int> ReleaseEarlierRunsAsync(AppDbContext db, string earlierRunsPrefix, string currentOwner, CancellationToken ct) =>
        db.OutboundMessages
            .Where(m => m.Status == MessageStatus.Leased && m.LeaseOwner!.StartsWith(earlierRunsPrefix) && m.LeaseOwner != currentOwner)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, MessageStatus.Queued)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseExpiresAtUtc, (DateTime?)null), ct);

    private static DbCommand Prepare(DbConnection connection, DbTransaction transaction, string owner, DateTime now, DateTime expires)
    {
        var command = SqlCommands.Create(connection, transaction, $"""
            UPDATE "OutboundMessages" AS m
            SET "Status" = {(int)MessageStatus.Leased}, "LeaseOwner" = $owner, "LeaseExpiresAtUtc" = $expires
            WHERE m."Id" = $id
              AND ((m."Status" = {(int)MessageStatus.Queued} AND m."NextAttemptAtUtc" <= $now)
                   OR (m."Status" = {(int)MessageStatus.Leased} AND m."LeaseExpiresAtUtc" < $now))
              AND (m."Kind" <> {(int)MessageKind.Campaign}
                   OR EXISTS (SELECT 1 FROM "Campaigns" AS c WHERE c."Id" = m."CampaignId" AND c."Status" = {(int)CampaignStatus.Sending}))
            """, "$id", "$owner", "$now", "$expires");
        command.Parameters["$owner"].Value = owner;
        command.Parameters["$now"].Value = now;
        command.Parameters["$expires"].Value = expires;
        command.Prepare();
        return command;
    }
}
