using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace NewsletterMigrator.Data;

/// <summary>
/// Delivery results, one UPDATE per row in the caller's transaction, the same statement on both providers (quoted names,
/// @parameters). ARCHITECTURE, leases: a result is written only WHERE the row is still leased to this owner, so a worker
/// whose lease expired and was taken over (a stalled host, another instance) never overwrites the new holder's row.
/// SQLite runs it prepared, once per row (<see cref="WriteEachAsync"/>); PostgreSQL sends a flush's statements as one
/// batch (<see cref="PostgresBulkSql"/>), one round trip instead of one per row.
/// </summary>
internal static class OutboxResultWriter
{
    public static readonly string Update = $"""
        UPDATE "OutboundMessages"
        SET "Status" = @status, "Attempts" = "Attempts" + @attempt, "LastReply" = coalesce(@reply, "LastReply"),
            "NextAttemptAtUtc" = coalesce(@next, "NextAttemptAtUtc"), "SentAtUtc" = coalesce(@sent, "SentAtUtc"),
            "LeaseOwner" = NULL, "LeaseExpiresAtUtc" = NULL
        WHERE "Id" = @id AND "LeaseOwner" = @owner AND "Status" = {(int)MessageStatus.Leased}
        """;

    public const string NeedsTransaction = "Delivery results are written in the caller's transaction";

    /// <summary>One prepared command, executed per result.</summary>
    public static async Task<bool[]> WriteEachAsync(AppDbContext db, string owner, IReadOnlyList<OutboxResult> results, CancellationToken ct)
    {
        var transaction = db.RequireTransaction(NeedsTransaction);
        await using var update = SqlCommands.Create(db.Database.GetDbConnection(), transaction, Update,
            "@status", "@attempt", "@reply", "@next", "@sent", "@id", "@owner");
        update.Parameters["@owner"].Value = owner;
        update.Prepare();
        var written = new bool[results.Count];
        for (var i = 0; i < results.Count; i++)
        {
            var (id, status, countsAsAttempt, reply, next, sent) = results[i];
            var p = update.Parameters;
            p["@status"].Value = (int)status;
            p["@attempt"].Value = countsAsAttempt ? 1 : 0;
            p["@reply"].Value = (object?)reply ?? DBNull.Value;
            p["@next"].Value = (object?)next ?? DBNull.Value;
            p["@sent"].Value = (object?)sent ?? DBNull.Value;
            p["@id"].Value = id;
            written[i] = await update.ExecuteNonQueryAsync(ct) == 1;
        }
        return written;
    }
}
