using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace NewsletterMigrator.Data;

/// <summary>
/// The bulk paths on PostgreSQL, where several instances share the rows: binary COPY for the import, INSERT ... ON
/// CONFLICT DO NOTHING for the fan-out, FOR UPDATE SKIP LOCKED for the outbox lease with the database's clock for lease
/// expiry (the hosts' clocks may differ; the server's is one). Due times stay on the app's clock: they are written by
/// the app (back-off, schedules) and compared with what wrote them.
/// </summary>
internal sealed class PostgresBulkSql : IBulkSql
{
    public async Task<IContactWriter> OpenContactWriterAsync(AppDbContext db, ContactBatch batch, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var close = connection.State != ConnectionState.Open;
        if (close) await db.Database.OpenConnectionAsync(ct);
        // COPY cannot skip a duplicate, so each chunk is copied into a session table first and moved on by one statement that
        // enters the numbers into ContactPhones, whose key (newsletter, HMAC) skips a number already taken, and inserts the
        // contacts whose number it entered. Temporary tables are not written to the WAL; ON COMMIT DELETE ROWS empties it
        // with each chunk's commit. (SQLite defers the numbers to a sorted merge instead; PostgreSQL's index inserts are cheap
        // enough in place, so duplicates are known chunk by chunk here and MergeNextAsync has nothing to do.)
        await ExecuteAsync(connection, """
            CREATE TEMPORARY TABLE IF NOT EXISTS import_contacts
                (seq integer NOT NULL, id uuid NOT NULL, hmac bytea NOT NULL, phone bytea NOT NULL, name text)
                ON COMMIT DELETE ROWS
            """, ct);
        return new ContactWriter(db, connection, close, batch);
    }

    public IFanOutWriter OpenFanOut(AppDbContext db, FanOutSpec spec) => new FanOutWriter(db, spec);

    /// <summary>
    /// One statement: choose the due rows and lock them, skipping rows another transaction has locked (another instance
    /// leasing them right now) instead of waiting for it, then lease what was chosen. FOR UPDATE also re-checks a row that
    /// was leased and committed meanwhile, so a row leased by another instance is never taken while its lease lasts.
    /// Expired leases first, then queued rows by priority and due time, as two index walks (an OR over both kinds cannot
    /// walk the (Status, Priority, NextAttemptAtUtc) index in order). The chosen ids are MATERIALIZED: a LIMIT … SKIP
    /// LOCKED subquery that the planner re-ran inside a join could lock and lease more rows than asked.
    /// Queued rows are ordered by the index's own columns only: with the Id as a last key (SQLite's index ends in the rowid,
    /// PostgreSQL's does not) PostgreSQL sorted every queued row for each batch, and the sort's estimated cost switched on
    /// its JIT compiler: 487 ms per lease with 65,000 rows queued, against 3 ms walking the index (EXPLAIN ANALYZE, send
    /// benchmark). Rows due at the same time (a campaign's) go in index order, about the order they were written in.
    /// </summary>
    public async Task<IReadOnlyList<long>> LeaseOutboxAsync(AppDbContext db, OutboxLeaseRequest request, CancellationToken ct)
    {
        var sendable = $"""
            (m."Kind" <> {(int)MessageKind.Campaign}
             OR EXISTS (SELECT 1 FROM "Campaigns" AS c WHERE c."Id" = m."CampaignId" AND c."Status" = {(int)CampaignStatus.Sending}))
            """;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var capped = request.HourlyCap > 0 ? await connection.BeginTransactionAsync(ct) : null;
            var take = request.Take;
            if (capped is not null)
            {
                take = Math.Min(take, await RoomUnderCapAsync(connection, capped, request, ct));
                if (take <= 0) return [];
            }
            await using var command = new NpgsqlCommand($"""
                WITH expired AS MATERIALIZED (
                    SELECT m."Id" FROM "OutboundMessages" AS m
                    WHERE m."Status" = {(int)MessageStatus.Leased} AND m."LeaseExpiresAtUtc" < now() AND {sendable}
                    ORDER BY m."Id"
                    LIMIT @take
                    FOR UPDATE OF m SKIP LOCKED),
                queued AS MATERIALIZED (
                    SELECT m."Id" FROM "OutboundMessages" AS m
                    WHERE m."Status" = {(int)MessageStatus.Queued} AND m."NextAttemptAtUtc" <= @now AND {sendable}
                    ORDER BY m."Priority", m."NextAttemptAtUtc"
                    LIMIT (@take - (SELECT count(*) FROM expired))
                    FOR UPDATE OF m SKIP LOCKED)
                UPDATE "OutboundMessages" AS m
                SET "Status" = {(int)MessageStatus.Leased}, "LeaseOwner" = @owner, "LeaseExpiresAtUtc" = now() + @duration
                WHERE m."Id" IN (SELECT "Id" FROM expired UNION ALL SELECT "Id" FROM queued)
                RETURNING m."Id"
                """, connection, capped);
            command.Parameters.Add(new NpgsqlParameter<int>("take", take));
            command.Parameters.Add(new NpgsqlParameter<DateTime>("now", NpgsqlDbType.TimestampTz) { TypedValue = Utc(request.Now) });
            command.Parameters.Add(new NpgsqlParameter<string>("owner", request.Owner));
            command.Parameters.Add(new NpgsqlParameter<TimeSpan>("duration", request.Duration));
            var ids = new List<long>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) ids.Add(reader.GetInt64(0));
            if (capped is not null) await capped.CommitAsync(ct);
            return ids;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// How many rows the cap leaves: the cap less the mails sent in the last hour and the rows leased now (in flight, by
    /// any instance; a sent row is never leased, so none counts twice). Under a transaction-scoped advisory lock, so
    /// instances count and lease one after another and each sees what the previous one leased (it committed before the
    /// lock was released). Without the cap no lock is taken.
    /// </summary>
    private static async Task<int> RoomUnderCapAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OutboxLeaseRequest request, CancellationToken ct)
    {
        await using (var lockCap = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({HourlyCapLock})", connection, transaction))
            await lockCap.ExecuteNonQueryAsync(ct);
        await using var count = new NpgsqlCommand($"""
            SELECT (SELECT count(*) FROM "OutboundMessages" WHERE "SentAtUtc" > @hourAgo)
                 + (SELECT count(*) FROM "OutboundMessages" WHERE "Status" = {(int)MessageStatus.Leased} AND "LeaseExpiresAtUtc" >= clock_timestamp())
            """, connection, transaction);
        count.Parameters.Add(new NpgsqlParameter<DateTime>("hourAgo", NpgsqlDbType.TimestampTz) { TypedValue = Utc(request.Now.AddHours(-1)) });
        return request.HourlyCap - (int)(long)(await count.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The advisory lock key of the hourly cap (any constant the app uses for nothing else): "NMcap" in ASCII.</summary>
    private const long HourlyCapLock = 0x4E_4D_63_61_70;

    /// <summary>
    /// The flush's UPDATEs as one batch: one round trip, each statement's row count telling whether it was still this
    /// owner's row. Typed parameters, so a null due or sent time needs no guessing. Row by row, unprepared, two instances
    /// on one PostgreSQL sent 67 % of raw MailKit's rate in the send benchmark.
    /// </summary>
    public async Task<bool[]> WriteOutboxResultsAsync(AppDbContext db, string owner, IReadOnlyList<OutboxResult> results, CancellationToken ct)
    {
        var transaction = (NpgsqlTransaction)db.RequireTransaction(OutboxResultWriter.NeedsTransaction);
        if (results.Count == 0) return [];
        await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection(), transaction);
        foreach (var (id, status, countsAsAttempt, reply, next, sent) in results)
        {
            var update = new NpgsqlBatchCommand(OutboxResultWriter.Update);
            update.Parameters.Add(new NpgsqlParameter<int>("status", (int)status));
            update.Parameters.Add(new NpgsqlParameter<int>("attempt", countsAsAttempt ? 1 : 0));
            update.Parameters.Add(new NpgsqlParameter("reply", NpgsqlDbType.Text) { Value = (object?)reply ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("next", NpgsqlDbType.TimestampTz) { Value = next is { } n ? Utc(n) : DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("sent", NpgsqlDbType.TimestampTz) { Value = sent is { } s ? Utc(s) : DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter<long>("id", id));
            update.Parameters.Add(new NpgsqlParameter<string>("owner", owner));
            batch.BatchCommands.Add(update);
        }
        await batch.ExecuteNonQueryAsync(ct);
        var written = new bool[results.Count];
        for (var i = 0; i < written.Length; i++) written[i] = batch.BatchCommands[i].RecordsAffected == 1;
        return written;
    }

    public async Task<DateTime> LeaseClockAsync(AppDbContext db, CancellationToken ct) =>
        // clock_timestamp, not now(): inside a transaction now() is its start, which may lie before a lock wait.
        await db.Database.SqlQueryRaw<DateTime>("""SELECT clock_timestamp() AS "Value" """).SingleAsync(ct);

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private sealed class ContactWriter(AppDbContext db, NpgsqlConnection connection, bool closeConnection, ContactBatch batch) : IContactWriter
    {
        public async Task<int> WriteAsync(IReadOnlyList<NewContact> contacts, IReadOnlyList<NewImportIssue> issues, CancellationToken ct)
        {
            // The session table empties at commit: outside a transaction every statement would commit, and the copied rows vanish.
            db.RequireTransaction(BulkSql.NeedsTransaction);
            var inserted = 0;
            if (contacts.Count > 0)
            {
                await using (var copy = await connection.BeginBinaryImportAsync(
                    "COPY pg_temp.import_contacts (seq, id, hmac, phone, name) FROM STDIN (FORMAT BINARY)", ct))
                {
                    for (var i = 0; i < contacts.Count; i++)
                    {
                        var c = contacts[i];
                        await copy.StartRowAsync(ct);
                        await copy.WriteAsync(i, NpgsqlDbType.Integer, ct);
                        await copy.WriteAsync(c.Id, NpgsqlDbType.Uuid, ct);
                        await copy.WriteAsync(c.PhoneHmac, NpgsqlDbType.Bytea, ct);
                        await copy.WriteAsync(c.PhoneEncrypted, NpgsqlDbType.Bytea, ct);
                        if (c.DisplayName is null) await copy.WriteNullAsync(ct);
                        else await copy.WriteAsync(c.DisplayName, NpgsqlDbType.Text, ct);
                    }
                    await copy.CompleteAsync(ct);
                }
                // By number, and of two rows with one number the first in the list first: it is kept, the later one is the duplicate.
                await using var move = new NpgsqlCommand("""
                    WITH entered AS (
                        INSERT INTO "ContactPhones" ("NewsletterId", "PhoneHmac", "ContactId")
                        SELECT @newsletter, hmac, id FROM pg_temp.import_contacts ORDER BY hmac, seq
                        ON CONFLICT ("NewsletterId", "PhoneHmac") DO NOTHING
                        RETURNING "ContactId")
                    INSERT INTO "Contacts" ("Id", "NewsletterId", "ImportBatchId", "PhoneHmac", "PhoneEncrypted", "DisplayName", "InviteRevoked", "TokenGeneration", "CreatedAtUtc")
                    SELECT i.id, @newsletter, @batch, i.hmac, i.phone, i.name, false, 0, @created
                    FROM pg_temp.import_contacts i JOIN entered e ON e."ContactId" = i.id ORDER BY i.seq
                    """, connection);
                move.Parameters.Add(new NpgsqlParameter<int>("newsletter", batch.NewsletterId));
                move.Parameters.Add(new NpgsqlParameter<int>("batch", batch.BatchId));
                move.Parameters.Add(new NpgsqlParameter<DateTime>("created", NpgsqlDbType.TimestampTz) { TypedValue = Utc(batch.CreatedAtUtc) });
                inserted = await move.ExecuteNonQueryAsync(ct);
                // Emptied here too: a later chunk in the same transaction (none today) must not move these rows again.
                await ExecuteAsync(connection, "TRUNCATE pg_temp.import_contacts", ct);
            }
            if (issues.Count > 0)
            {
                await using var copy = await connection.BeginBinaryImportAsync(
                    """COPY "ImportIssues" ("ImportBatchId", "Line", "Reason", "OriginalValue") FROM STDIN (FORMAT BINARY)""", ct);
                foreach (var issue in issues)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(batch.BatchId, NpgsqlDbType.Integer, ct);
                    await copy.WriteAsync(issue.Line, NpgsqlDbType.Integer, ct);
                    await copy.WriteAsync(issue.Reason, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(issue.OriginalValue, NpgsqlDbType.Text, ct);
                }
                await copy.CompleteAsync(ct);
            }
            return inserted;
        }

        public Task<int?> MergeNextAsync(bool final, CancellationToken ct) => Task.FromResult<int?>(null);

        public async ValueTask DisposeAsync()
        {
            // The connection goes back to the pool without the session table. A failure here must not hide the one that
            // ended the import; a broken connection is not reused anyway.
            try
            {
                if (connection.State == ConnectionState.Open && db.Database.CurrentTransaction is null)
                    await ExecuteAsync(connection, "DROP TABLE IF EXISTS pg_temp.import_contacts", CancellationToken.None);
            }
            catch (NpgsqlException) { }
            if (closeConnection) await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Batches are ranges of the (NewsletterId, Status, Id) index: PostgreSQL has no rowid, so the Id closes the index
    /// (AppDbContext) and each batch is one index range, whatever its position in the list.
    /// </summary>
    private sealed class FanOutWriter(AppDbContext db, FanOutSpec spec) : IFanOutWriter
    {
        // No subscriber has the empty Guid, and every other one sorts after it.
        private Guid _after = Guid.Empty;

        public async Task<FanOutStep> WriteNextAsync(CancellationToken ct)
        {
            db.RequireTransaction(BulkSql.NeedsTransaction);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var bound = new NpgsqlCommand($"""
                SELECT "Id" FROM "Subscribers"
                WHERE "NewsletterId" = @n AND "Status" = {(int)SubscriberStatus.Confirmed} AND "Id" > @after
                ORDER BY "Id" LIMIT 1 OFFSET @skip
                """, connection);
            bound.Parameters.Add(new NpgsqlParameter<int>("n", spec.NewsletterId));
            bound.Parameters.Add(new NpgsqlParameter<Guid>("after", _after));
            bound.Parameters.Add(new NpgsqlParameter<int>("skip", spec.BatchSize - 1));
            var upto = await bound.ExecuteScalarAsync(ct) is Guid end ? end : (Guid?)null;

            await using var insert = new NpgsqlCommand($"""
                INSERT INTO "OutboundMessages"
                    ("Kind", "Priority", "Status", "NewsletterId", "CampaignId", "SubscriberId", "ToAddress", "Language", "MessageId", "Attempts", "CreatedAtUtc", "NextAttemptAtUtc")
                SELECT {(int)MessageKind.Campaign}, {spec.Priority}, {(int)MessageStatus.Queued}, s."NewsletterId", @c, s."Id", s."Email", s."Language",
                       {MessageIds.PostgresSql("@host")}, 0, @stamp, @stamp
                FROM "Subscribers" AS s
                WHERE s."NewsletterId" = @n AND s."Status" = {(int)SubscriberStatus.Confirmed} AND s."Id" > @after {(upto is null ? "" : """AND s."Id" <= @upto""")}
                ON CONFLICT ("CampaignId", "SubscriberId") DO NOTHING
                """, connection);
            insert.Parameters.Add(new NpgsqlParameter<int>("c", spec.CampaignId));
            insert.Parameters.Add(new NpgsqlParameter<int>("n", spec.NewsletterId));
            insert.Parameters.Add(new NpgsqlParameter<Guid>("after", _after));
            if (upto is { } last) insert.Parameters.Add(new NpgsqlParameter<Guid>("upto", last));
            insert.Parameters.Add(new NpgsqlParameter<string>("host", spec.MessageIdHost));
            insert.Parameters.Add(new NpgsqlParameter<DateTime>("stamp", NpgsqlDbType.TimestampTz) { TypedValue = Utc(spec.CreatedAtUtc) });
            var written = await insert.ExecuteNonQueryAsync(ct);
            if (upto is { } next) _after = next;
            return new FanOutStep(written, upto is null);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
