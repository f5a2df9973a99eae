using System.Data;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using NpgsqlTypes;

namespace NewsletterMigrator.Data;

public enum CopyStatus { Copied, TargetUnreachable, TargetNotEmpty, Unsupported, CountMismatch, SourceUnreadable }

/// <param name="Source">Rows in the SQLite snapshot.</param>
/// <param name="Target">Rows in PostgreSQL after the copy, counted before the commit.</param>
public sealed record CopiedTable(string Name, long Source, long Target);

/// <param name="Detail">What the operator needs: the server's message, the tables found in the target, the unsupported column.</param>
public sealed record CopyOutcome(CopyStatus Status, string Detail = "", IReadOnlyList<CopiedTable>? Tables = null, TimeSpan Duration = default)
{
    public long Rows => Tables?.Sum(t => t.Target) ?? 0;
}

/// <summary>
/// <c>copy-database</c>: a SQLite installation into an empty PostgreSQL database, every table of the model (staff and
/// Identity, Data Protection keys, consent ledger, outbox, audit, logos …) with its keys as they are.
/// All of it happens in one PostgreSQL transaction: the schema (the PostgreSQL migrations as one script, PostgreSQL's DDL
/// being transactional), the rows (binary COPY, table by table in foreign-key order), the identity sequences and the count
/// check. A failure or a wrong count rolls it all back, so the target is either a complete, verified copy or as empty as
/// before, and the operator can simply run the verb again.
/// The source is read in one SQLite read transaction, a consistent snapshot, and streamed row by row: nothing of a table
/// is held in memory, whatever its size. Values are read as the PostgreSQL model's provider types (EF's column metadata):
/// SQLite keeps Guids and times as TEXT and bools as INTEGER, binary COPY wants each column's exact type.
/// Raw SQL over the tables, not EF queries, so no query filter (Contact hides running imports) leaves a row behind.
/// </summary>
public sealed class DatabaseCopy(ILogger<DatabaseCopy> logger)
{
    /// <summary>The target's context: its model gives the tables, the column types and the migrations.</summary>
    public static PostgresAppDbContext Target(string connectionString) =>
        new(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql(connectionString).Options);

    /// <summary>Null when the target can take the copy; else why not (nothing is written either way).</summary>
    public async Task<CopyOutcome?> CheckTargetAsync(string targetConnectionString, CancellationToken ct = default)
    {
        try
        {
            await using var db = Target(targetConnectionString);
            await using var connection = Connect(targetConnectionString);
            await connection.OpenAsync(ct);
            return await RefusalAsync(connection, null, TableNames(db), ct);
        }
        catch (NpgsqlException ex)
        {
            return new(CopyStatus.TargetUnreachable, ex.Message);
        }
    }

    public async Task<CopyOutcome> CopyAsync(string sourceConnectionString, string targetConnectionString, TextWriter progress, CancellationToken ct = default)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var target = Target(targetConnectionString);
        var tables = TablesInForeignKeyOrder(target.Model.GetRelationalModel());
        if (Unsupported(tables) is { } unsupported) return new(CopyStatus.Unsupported, unsupported);
        var script = target.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.NoTransactions);

        // ReadWrite, never ReadWriteCreate: a vanished file must fail, not become an empty installation to copy.
        var sourceBuilder = new SqliteConnectionStringBuilder(sourceConnectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false };
        await using var source = new SqliteConnection(sourceBuilder.ToString());
        await source.OpenAsync(ct);
        // Deferred: the snapshot starts with the first read and lasts until the end, while writers (should the app run
        // after all) neither wait for nor show up in it. Every count and row below comes from that one snapshot.
        await using var snapshot = source.BeginTransaction(IsolationLevel.Serializable, deferred: true);

        try
        {
            await using var connection = Connect(targetConnectionString);
            await connection.OpenAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // Checked again inside the transaction: between the verb's check and here another run may have begun.
            if (await RefusalAsync(connection, transaction, tables.Select(t => t.Name).ToList(), ct) is { } refusal) return refusal;

            await ExecuteAsync(connection, transaction, script, ct);
            // The migrations seed a few single rows (account, security policy, mailbox state); the source has its own.
            await ExecuteAsync(connection, transaction, "TRUNCATE " + string.Join(", ", tables.Select(t => Quote(t.Name))), ct);

            // Secondary indexes are built once after the rows are in, not maintained row by row during the COPY.
            var indexes = await SecondaryIndexesAsync(connection, transaction, tables.Select(t => t.Name).ToList(), ct);
            foreach (var (name, _) in indexes) await ExecuteAsync(connection, transaction, $"DROP INDEX {Quote(name)}", ct);

            var copied = new List<CopiedTable>();
            foreach (var table in tables)
            {
                var started = stopwatch.Elapsed;
                var sourceRows = await CountAsync(source, snapshot, table.Name, ct);
                var written = await CopyTableAsync(source, snapshot, connection, table, ct);
                var targetRows = await CountAsync(connection, transaction, table.Name, ct);
                copied.Add(new(table.Name, sourceRows, targetRows));
                // Progress for the tables that take a while; the summary lists every table.
                if ((stopwatch.Elapsed - started).TotalSeconds >= 0.5) progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {table.Name}: {written:N0} rows ({(stopwatch.Elapsed - started).TotalSeconds:0.0} s)"));
            }
            var indexing = Stopwatch.StartNew();
            // A unique index that the rows break fails here, and the whole copy with it.
            foreach (var (_, definition) in indexes) await ExecuteAsync(connection, transaction, definition, ct);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {indexes.Count} indexes built ({indexing.Elapsed.TotalSeconds:0.0} s)"));
            if (copied.Any(t => t.Source != t.Target))
                return new(CopyStatus.CountMismatch, string.Join(", ", copied.Where(t => t.Source != t.Target).Select(t => t.Name)), copied, stopwatch.Elapsed);

            await ResetSequencesAsync(connection, transaction, tables.Select(t => t.Name).ToList(), ct);
            await transaction.CommitAsync(ct);
            // The planner's statistics for the fresh tables: without them the first queries plan for empty tables.
            await ExecuteAsync(connection, null, "ANALYZE", ct);
            logger.LogInformation("Copied {Rows} rows in {Tables} tables to PostgreSQL in {Elapsed} ms", copied.Sum(t => t.Target), copied.Count, stopwatch.ElapsedMilliseconds);
            return new(CopyStatus.Copied, "", copied, stopwatch.Elapsed);
        }
        catch (NpgsqlException ex)
        {
            // The transaction is rolled back with its connection: nothing of this run stays in the target.
            return new(CopyStatus.TargetUnreachable, ex.Message);
        }
        catch (SqliteException ex)
        {
            return new(CopyStatus.SourceUnreadable, ex.Message);
        }
    }

    private static NpgsqlConnection Connect(string connectionString) =>
        // No command timeout: a large table's COPY, count or index build takes longer than the default 30 s.
        new(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0, Pooling = false }.ToString());

    private static List<string> TableNames(AppDbContext db) => db.Model.GetRelationalModel().Tables.Select(t => t.Name).ToList();

    /// <summary>
    /// The target must hold none of our tables and no migration history: a copy never merges into an installation (keys and
    /// unique values would clash, or worse, mix two portals' readers). Other tables, of other software, are left alone.
    /// </summary>
    private static async Task<CopyOutcome?> RefusalAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<string> tables, CancellationToken ct)
    {
        var names = tables.Append(HistoryTable).ToArray();
        var present = new List<string>();
        await using (var command = new NpgsqlCommand(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY(@names) ORDER BY c.relname",
            connection, transaction))
        {
            command.Parameters.AddWithValue("names", names);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) present.Add(reader.GetString(0));
        }
        var found = new List<(string Text, long Rows)>();
        foreach (var table in present)
        {
            var rows = await CountAsync(connection, transaction, table, ct);
            // An empty history table alone is what an interrupted `migrate` leaves; the migration script creates it if missing.
            if (table == HistoryTable && rows == 0) continue;
            found.Add((rows switch { 0 => $"{table} (empty)", 1 => $"{table} (1 row)", _ => string.Create(CultureInfo.InvariantCulture, $"{table} ({rows:N0} rows)") }, rows));
        }
        // The tables with rows first: they are what the operator must not lose.
        var listed = found.OrderBy(f => f.Rows == 0).Select(f => f.Text).ToList();
        return listed.Count == 0 ? null : new(CopyStatus.TargetNotEmpty, string.Join(", ", listed.Take(8)) + (listed.Count > 8 ? $" and {listed.Count - 8} more" : ""));
    }

    private const string HistoryTable = "__EFMigrationsHistory";

    private static async Task<long> CopyTableAsync(SqliteConnection source, SqliteTransaction snapshot, NpgsqlConnection target, TableCopy table, CancellationToken ct)
    {
        var columns = string.Join(", ", table.Columns.Select(c => Quote(c.Name)));
        await using var read = source.CreateCommand();
        read.Transaction = snapshot;
        read.CommandText = $"SELECT {columns} FROM {Quote(table.Name)}";
        read.CommandTimeout = 0;
        await using var reader = await read.ExecuteReaderAsync(ct);
        // Synchronous writes inside the loop: the importer buffers and flushes by itself; an await per value cost more here
        // than the copy of the value.
        await using var writer = await target.BeginBinaryImportAsync($"COPY {Quote(table.Name)} ({columns}) FROM STDIN (FORMAT BINARY)", ct);
        while (await reader.ReadAsync(ct))
        {
            writer.StartRow();
            for (var i = 0; i < table.Columns.Count; i++)
            {
                if (reader.IsDBNull(i)) writer.WriteNull();
                else table.Columns[i].Write!(reader, i, writer);
            }
        }
        return (long)await writer.CompleteAsync(ct);
    }

    /// <summary>
    /// The indexes of the tables that back no constraint (primary keys stay, foreign keys need them), with the statement
    /// that makes each again: building an index once over all rows is cheaper than updating it per row (PostgreSQL manual,
    /// "Populating a Database"); the 51 indexes of 1,020,000 rows took 10.7 s to build here.
    /// </summary>
    private static async Task<List<(string Name, string Definition)>> SecondaryIndexesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<string> tables, CancellationToken ct)
    {
        var indexes = new List<(string, string)>();
        await using var command = new NpgsqlCommand(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = ANY(@tables) " +
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = i.schemaname AND c.conname = i.indexname) " +
            "ORDER BY i.tablename, i.indexname", connection, transaction);
        command.Parameters.AddWithValue("tables", tables.ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) indexes.Add((reader.GetString(0), reader.GetString(1)));
        return indexes;
    }

    /// <summary>
    /// Identity columns continue after the highest copied key: COPY with explicit keys leaves their sequences at 1, and the
    /// app's first insert would collide with a copied row.
    /// </summary>
    private static async Task ResetSequencesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<string> tables, CancellationToken ct)
    {
        var identities = new List<(string Table, string Column)>();
        await using (var command = new NpgsqlCommand(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY(@tables) " +
            "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')", connection, transaction))
        {
            command.Parameters.AddWithValue("tables", tables.ToArray());
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) identities.Add((reader.GetString(0), reader.GetString(1)));
        }
        foreach (var (table, column) in identities)
        {
            // is_called false: the next value handed out is max + 1 (1 on an empty table).
            await ExecuteAsync(connection, transaction,
                $"SELECT setval(pg_get_serial_sequence('{Quote(table).Replace("'", "''")}', '{column.Replace("'", "''")}'), COALESCE(MAX({Quote(column)}), 0) + 1, false) FROM {Quote(table)}", ct);
        }
    }

    private static async Task<long> CountAsync(SqliteConnection connection, SqliteTransaction transaction, string table, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COUNT(*) FROM {Quote(table)}";
        command.CommandTimeout = 0;
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string table, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM {Quote(table)}", connection, transaction);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    private sealed record TableCopy(string Name, IReadOnlyList<ColumnCopy> Columns);

    /// <param name="Write">Reads the column's non-null SQLite value as the PostgreSQL provider type and writes it.</param>
    private sealed record ColumnCopy(string Name, string StoreType, Action<SqliteDataReader, int, NpgsqlBinaryImporter>? Write);

    private static string? Unsupported(IEnumerable<TableCopy> tables) =>
        tables.SelectMany(t => t.Columns.Where(c => c.Write is null).Select(c => $"{t.Name}.{c.Name} ({c.StoreType})")).FirstOrDefault();

    /// <summary>
    /// Principal tables before their dependents, so every foreign key finds its row. A table's reference to itself needs
    /// no order: PostgreSQL checks foreign keys at the end of the COPY statement.
    /// </summary>
    private static List<TableCopy> TablesInForeignKeyOrder(IRelationalModel model)
    {
        var ordered = new List<TableCopy>();
        var done = new HashSet<string>();
        var pending = model.Tables.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        while (pending.Count > 0)
        {
            var ready = pending.Where(t => t.ForeignKeyConstraints.All(fk => fk.PrincipalTable == t || done.Contains(fk.PrincipalTable.Name))).ToList();
            if (ready.Count == 0)
                throw new InvalidOperationException("The model's foreign keys form a cycle between " + string.Join(", ", pending.Select(t => t.Name)) + ": copy-database cannot order them.");
            foreach (var table in ready)
            {
                ordered.Add(new(table.Name, [.. table.Columns.Select(c => new ColumnCopy(c.Name, c.StoreType, Writer(c.StoreType, c.ProviderClrType)))]));
                done.Add(table.Name);
                pending.Remove(table);
            }
        }
        return ordered;
    }

    /// <summary>
    /// How a column's SQLite value becomes its PostgreSQL value, by the PostgreSQL model's store type and provider type;
    /// null for a type this copy does not know (the verb refuses before it writes anything).
    /// Microsoft.Data.Sqlite's typed getters read EF's SQLite forms: a Guid's TEXT, a time's TEXT, a bool's INTEGER.
    /// </summary>
    private static Action<SqliteDataReader, int, NpgsqlBinaryImporter>? Writer(string storeType, Type clrType)
    {
        var baseType = storeType.Split('(')[0].Trim();
        var type = Nullable.GetUnderlyingType(clrType) ?? clrType;
        return (baseType, type) switch
        {
            ("integer", _) when type == typeof(int) => (r, i, w) => w.Write(r.GetInt32(i), NpgsqlDbType.Integer),
            ("bigint", _) when type == typeof(long) => (r, i, w) => w.Write(r.GetInt64(i), NpgsqlDbType.Bigint),
            ("smallint", _) when type == typeof(short) => (r, i, w) => w.Write(r.GetInt16(i), NpgsqlDbType.Smallint),
            ("boolean", _) when type == typeof(bool) => (r, i, w) => w.Write(r.GetBoolean(i), NpgsqlDbType.Boolean),
            ("double precision", _) when type == typeof(double) => (r, i, w) => w.Write(r.GetDouble(i), NpgsqlDbType.Double),
            ("numeric", _) when type == typeof(decimal) => (r, i, w) => w.Write(r.GetDecimal(i), NpgsqlDbType.Numeric),
            ("text", _) when type == typeof(string) => (r, i, w) => w.Write(r.GetString(i), NpgsqlDbType.Text),
            ("character varying", _) when type == typeof(string) => (r, i, w) => w.Write(r.GetString(i), NpgsqlDbType.Varchar),
            ("bytea", _) when type == typeof(byte[]) => (r, i, w) => w.Write(r.GetFieldValue<byte[]>(i), NpgsqlDbType.Bytea),
            ("uuid", _) when type == typeof(Guid) => (r, i, w) => w.Write(r.GetGuid(i), NpgsqlDbType.Uuid),
            // Stored as UTC everywhere (ARCHITECTURE: Data); SQLite gives it back without a kind, timestamptz insists on Utc.
            ("timestamp with time zone", _) when type == typeof(DateTime) =>
                (r, i, w) => w.Write(DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc), NpgsqlDbType.TimestampTz),
            // Identity's lockout end: SQLite keeps the offset in the text, timestamptz takes offset zero only.
            ("timestamp with time zone", _) when type == typeof(DateTimeOffset) =>
                (r, i, w) => w.Write(r.GetDateTimeOffset(i).ToUniversalTime(), NpgsqlDbType.TimestampTz),
            _ => null,
        };
    }
}
