using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace NewsletterMigrator.Data;

/// <summary>
/// Writes delivery results, one UPDATE per row in the caller's transaction, the same statement on both providers (quoted
/// names, @parameters). ARCHITECTURE, leases: a result is written only WHERE the row is still leased to this owner, so a
/// worker whose lease expired and was taken over (a stalled host, another instance) never overwrites the new holder's row.
/// </summary>
internal sealed class OutboxResultWriter(AppDbContext db, string owner, bool prepare) : IOutboxResultWriter
{
    private DbCommand? _update;

    public async Task<bool> WriteAsync(OutboxResult result, CancellationToken ct)
    {
        var transaction = db.RequireTransaction("Delivery results are written in the caller's transaction");
        if (_update is null)
        {
            _update = SqlCommands.Create(db.Database.GetDbConnection(), transaction, $"""
                UPDATE "OutboundMessages"
                SET "Status" = @status, "Attempts" = "Attempts" + @attempt, "LastReply" = coalesce(@reply, "LastReply"),
                    "NextAttemptAtUtc" = coalesce(@next, "NextAttemptAtUtc"), "SentAtUtc" = coalesce(@sent, "SentAtUtc"),
                    "LeaseOwner" = NULL, "LeaseExpiresAtUtc" = NULL
                WHERE "Id" = @id AND "LeaseOwner" = @owner AND "Status" = {(int)MessageStatus.Leased}
                """, "@status", "@attempt", "@reply", "@next", "@sent", "@id", "@owner");
            _update.Parameters["@owner"].Value = owner;
            // PostgreSQL: a prepared statement fixes its parameter types, and @next and @sent are sometimes null.
            if (prepare) _update.Prepare();
        }
        _update.Transaction = transaction;
        var p = _update.Parameters;
        p["@status"].Value = (int)result.Status;
        p["@attempt"].Value = result.CountsAsAttempt ? 1 : 0;
        p["@reply"].Value = (object?)result.Reply ?? DBNull.Value;
        p["@next"].Value = (object?)result.NextAttemptAtUtc ?? DBNull.Value;
        p["@sent"].Value = (object?)result.SentAtUtc ?? DBNull.Value;
        p["@id"].Value = result.Id;
        return await _update.ExecuteNonQueryAsync(ct) == 1;
    }

    public async ValueTask DisposeAsync()
    {
        if (_update is not null) await _update.DisposeAsync();
    }
}
