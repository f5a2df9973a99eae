using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

/// <summary>
/// The hot path of an import: prepared SQLite commands, one short transaction per chunk (EF's AddRange
/// is about ten times slower here). INSERT OR IGNORE lets the unique index (newsletter, HMAC) find
/// duplicates, in the file and against the newsletter, without holding every number in memory.
/// </summary>
internal sealed class ChunkWriter : IAsyncDisposable
{
    private readonly AppDbContext _db;
    private readonly SqliteConnection _connection;
    private readonly bool _closeConnection;
    private readonly int _batchId;
    private readonly int _newsletterId;
    private readonly string _owner;
    private readonly string _created;
    private SqliteCommand? _contact;
    private SqliteCommand? _issue;
    private SqliteCommand? _batch;

    private ChunkWriter(AppDbContext db, SqliteConnection connection, bool closeConnection, int batchId, int newsletterId, string owner, DateTime now)
    {
        _db = db;
        _connection = connection;
        _closeConnection = closeConnection;
        _batchId = batchId;
        _newsletterId = newsletterId;
        _owner = owner;
        // EF's SQLite provider stores DateTimes in this format and Guids as upper-case text.
        _created = now.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF");
    }

    /// <param name="owner">The batch's lease owner (<see cref="ImportLeases.Owner"/>): each chunk, and the completion, is written only while
    /// the batch is still this process's, so an import another instance has taken over as crashed can never complete.</param>
    public static async Task<ChunkWriter> OpenAsync(AppDbContext db, int batchId, int newsletterId, DateTime now, string owner, CancellationToken cancellationToken)
    {
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var close = connection.State != ConnectionState.Open;
        if (close) await db.Database.OpenConnectionAsync(cancellationToken);
        // The duplicate index (newsletter, HMAC) has random keys: with SQLite's default 2 MB page cache most
        // inserts would miss it, so this connection gets 64 MB while it imports. Each commit copies every page
        // it touched into the WAL, and the default checkpoint (every 1,000 pages, with two fsyncs) then ran
        // after almost every chunk; checkpointing every 64 MB of WAL instead took a third off a 1M-row import.
        await ExecuteAsync(connection, "PRAGMA cache_size = -65536; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 16384;", cancellationToken);
        return new ChunkWriter(db, connection, close, batchId, newsletterId, owner, now);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = sql;
        await pragma.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task WriteAsync(ContactImporter.PreparedRow[] chunk, ContactImporter.Counts counts, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken);
        var contact = ContactCommand(transaction);
        var issue = IssueCommand(transaction);
        foreach (var p in chunk)
        {
            counts.Rows++;
            if (p.Row.Skipped is { } skipped)
            {
                foreach (var other in skipped) Issue(issue, p.Row.Line, InvalidReason.Landline, other);
            }
            if (p.Reason is not null)
            {
                counts.Invalid(p.Reason);
                Issue(issue, p.Row.Line, p.Reason, p.Row.Phone ?? "");
                continue;
            }
            var ps = contact.Parameters;
            ps[0].Value = p.Id.ToString().ToUpperInvariant();
            ps[1].Value = p.Hmac;
            ps[2].Value = p.Encrypted;
            ps[3].Value = string.IsNullOrWhiteSpace(p.Row.Name) ? DBNull.Value : ContactImporter.Truncate(p.Row.Name.Trim(), 200);
            ps[4].Value = p.TokenHash;
            if (contact.ExecuteNonQuery() == 1) counts.Imported++;
            else counts.Duplicates++;
        }
        UpdateBatch(transaction, counts, ImportStatus.Running);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The one moment the batch's contacts become visible.</summary>
    public async Task CompleteAsync(ContactImporter.Counts counts, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(CancellationToken.None);
        UpdateBatch(transaction, counts, ImportStatus.Completed);
        await transaction.CommitAsync(CancellationToken.None);
    }

    private static void Issue(SqliteCommand issue, int line, string reason, string value)
    {
        issue.Parameters[0].Value = line;
        issue.Parameters[1].Value = reason;
        issue.Parameters[2].Value = ContactImporter.Truncate(value, 100);
        issue.ExecuteNonQuery();
    }

    private void UpdateBatch(SqliteTransaction transaction, ContactImporter.Counts counts, ImportStatus status)
    {
        _batch ??= Prepare("""
            UPDATE ImportBatches SET RowsRead = $rows, Imported = $imported, Duplicates = $duplicates, Invalid = $invalid, Status = $status
            WHERE Id = $batch AND LeaseOwner = $owner
            """, ("$rows", SqliteType.Integer), ("$imported", SqliteType.Integer), ("$duplicates", SqliteType.Integer),
            ("$invalid", SqliteType.Integer), ("$status", SqliteType.Integer), ("$batch", SqliteType.Integer), ("$owner", SqliteType.Text));
        _batch.Transaction = transaction;
        _batch.Parameters[0].Value = counts.Rows;
        _batch.Parameters[1].Value = counts.Imported;
        _batch.Parameters[2].Value = counts.Duplicates;
        _batch.Parameters[3].Value = counts.InvalidCount;
        _batch.Parameters[4].Value = (int)status;
        _batch.Parameters[5].Value = _batchId;
        _batch.Parameters[6].Value = _owner;
        if (_batch.ExecuteNonQuery() != 1) throw new InvalidOperationException($"Import batch {_batchId} no longer exists or is no longer this instance's.");
    }

    private SqliteCommand ContactCommand(SqliteTransaction transaction)
    {
        _contact ??= Prepare($"""
            INSERT OR IGNORE INTO Contacts (Id, NewsletterId, ImportBatchId, PhoneHmac, PhoneEncrypted, DisplayName, InviteTokenHash, TokenGeneration, CreatedAtUtc)
            VALUES ($id, {_newsletterId}, {_batchId}, $hmac, $phone, $name, $token, 0, '{_created}')
            """, ("$id", SqliteType.Text), ("$hmac", SqliteType.Blob), ("$phone", SqliteType.Blob), ("$name", SqliteType.Text), ("$token", SqliteType.Blob));
        _contact.Transaction = transaction;
        return _contact;
    }

    private SqliteCommand IssueCommand(SqliteTransaction transaction)
    {
        _issue ??= Prepare($"""
            INSERT INTO ImportIssues (ImportBatchId, Line, Reason, OriginalValue) VALUES ({_batchId}, $line, $reason, $value)
            """, ("$line", SqliteType.Integer), ("$reason", SqliteType.Text), ("$value", SqliteType.Text));
        _issue.Transaction = transaction;
        return _issue;
    }

    private SqliteCommand Prepare(string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters) command.Parameters.Add(name, type);
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        if (_contact is not null) await _contact.DisposeAsync();
        if (_issue is not null) await _issue.DisposeAsync();
        if (_batch is not null) await _batch.DisposeAsync();
        // The connection goes back to the pool: it must not keep the import's page cache (64 MB) or checkpoint interval.
        // A failure here must not hide the one that ended the import; a broken connection is not reused anyway.
        try
        {
            if (_connection.State == ConnectionState.Open)
                await ExecuteAsync(_connection, "PRAGMA cache_size = -2000; PRAGMA wal_autocheckpoint = 1000; PRAGMA shrink_memory;", CancellationToken.None);
        }
        catch (SqliteException) { }
        if (_closeConnection) await _db.Database.CloseConnectionAsync();
    }
}
