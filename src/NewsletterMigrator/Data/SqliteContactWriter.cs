using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// An import's writer on SQLite. Each chunk's contacts go into Contacts in the list's order, so every index they enter is
/// keyed in that order too (ids count up). Their numbers are entered into ContactPhones later, in sorted runs
/// (<see cref="MergeNextAsync"/>): a run of up to <see cref="RunSize"/> numbers is sorted by HMAC and entered in steps of
/// <see cref="StepSize"/>, each step one narrow range of the (newsletter, HMAC) key whose inserts share index pages.
/// Entered one by one in the list's order, those random keys cost about one index page copied into the WAL per row
/// (19 µs of the 30 µs a row cost to write in <c>import-sqlite</c>). A number the newsletter had before the import is
/// skipped at once, by a lookup of ContactPhones; one that is twice in the list is found by the merge (a sorted run puts
/// the first one first; a later run finds it entered), and its contact is removed again.
/// </summary>
internal sealed class SqliteContactWriter : IContactWriter
{
    /// <summary>Numbers held for one sorted run: 13 MB (HMACs, ids and the sort order), however long the list.</summary>
    internal const int RunSize = 1 << 18;

    private const int HmacBytes = 32;

    /// <summary>Numbers entered per merge step, in its own transaction: a few milliseconds.</summary>
    private const int StepSize = 4096;

    private readonly AppDbContext _db;
    private readonly SqliteConnection _connection;
    private readonly bool _closeConnection;
    private readonly SqliteCommand _known;
    private readonly SqliteCommand _contact;
    private readonly SqliteCommand _issue;
    private readonly SqliteCommand _enter;
    private readonly SqliteCommand _remove;
    /// <summary>Whether the newsletter had numbers when the import began: if not, none is looked up (a first import's every row).</summary>
    private readonly bool _lookUp;
    /// <summary>
    /// The run: the numbers written since the last merge, in the list's order, as one block of HMACs and one of ids (per-row
    /// arrays and strings kept alive until the merge made the managed heap four times larger); <see cref="_sorted"/> is
    /// their order by HMAC once the run is closed, <see cref="_merged"/> of it entered.
    /// </summary>
    private byte[] _hmacs = [];
    private Guid[] _ids = [];
    private int _count;
    private int[]? _sorted;
    private int _merged;

    private SqliteContactWriter(AppDbContext db, SqliteConnection connection, bool closeConnection, ContactBatch batch, bool lookUp)
    {
        _db = db;
        _lookUp = lookUp;
        _connection = connection;
        _closeConnection = closeConnection;
        _known = Command($"SELECT EXISTS (SELECT 1 FROM ContactPhones WHERE NewsletterId = {batch.NewsletterId} AND PhoneHmac = $hmac)",
            ("$hmac", SqliteType.Blob));
        // EF's SQLite provider stores Guids as upper-case text and DateTimes in the parameter's own format.
        _contact = Command($"""
            INSERT INTO Contacts (Id, NewsletterId, ImportBatchId, PhoneHmac, PhoneEncrypted, DisplayName, InviteRevoked, TokenGeneration, CreatedAtUtc)
            VALUES ($id, {batch.NewsletterId}, {batch.BatchId}, $hmac, $phone, $name, 0, 0, $created)
            """, ("$id", SqliteType.Text), ("$hmac", SqliteType.Blob), ("$phone", SqliteType.Blob), ("$name", SqliteType.Text), ("$created", SqliteType.Text));
        _contact.Parameters[4].Value = batch.CreatedAtUtc;
        _issue = Command($"INSERT INTO ImportIssues (ImportBatchId, Line, Reason, OriginalValue) VALUES ({batch.BatchId}, $line, $reason, $value)",
            ("$line", SqliteType.Integer), ("$reason", SqliteType.Text), ("$value", SqliteType.Text));
        _enter = Command($"INSERT OR IGNORE INTO ContactPhones (NewsletterId, PhoneHmac, ContactId) VALUES ({batch.NewsletterId}, $hmac, $id)",
            ("$hmac", SqliteType.Blob), ("$id", SqliteType.Text));
        _remove = Command("DELETE FROM Contacts WHERE Id = $id", ("$id", SqliteType.Text));
    }

    public static async Task<IContactWriter> OpenAsync(AppDbContext db, ContactBatch batch, CancellationToken ct)
    {
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var close = connection.State != ConnectionState.Open;
        if (close) await db.Database.OpenConnectionAsync(ct);
        // A larger page cache for the lookups of known numbers and the merge (the default is 2 MB; 16 MB imported a million rows
        // as fast as 64 MB did, with 40 MB less working set); a checkpoint every 64 MB of WAL instead of every 4 MB (two fsyncs each).
        await ExecuteAsync(connection, "PRAGMA cache_size = -16384; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 16384;", ct);
        // A number another import enters meanwhile, or an earlier run of this one, is found by the merge all the same.
        await using var any = connection.CreateCommand();
        any.CommandText = $"SELECT EXISTS (SELECT 1 FROM ContactPhones WHERE NewsletterId = {batch.NewsletterId})";
        var lookUp = Convert.ToInt64(await any.ExecuteScalarAsync(ct)) == 1;
        return new SqliteContactWriter(db, connection, close, batch, lookUp);
    }

    public Task<int> WriteAsync(IReadOnlyList<NewContact> contacts, IReadOnlyList<NewImportIssue> issues, CancellationToken ct)
    {
        Enlist(_known, _contact, _issue);
        var inserted = 0;
        foreach (var c in contacts)
        {
            ct.ThrowIfCancellationRequested();
            if (_lookUp)
            {
                _known.Parameters[0].Value = c.PhoneHmac;
                if (Convert.ToInt64(_known.ExecuteScalar()) == 1) continue; // the newsletter has this number already
            }
            var ps = _contact.Parameters;
            ps[0].Value = IdText(c.Id);
            ps[1].Value = c.PhoneHmac;
            ps[2].Value = c.PhoneEncrypted;
            ps[3].Value = (object?)c.DisplayName ?? DBNull.Value;
            _contact.ExecuteNonQuery();
            Hold(c.Id, c.PhoneHmac);
            inserted++;
        }
        foreach (var issue in issues)
        {
            _issue.Parameters[0].Value = issue.Line;
            _issue.Parameters[1].Value = issue.Reason;
            _issue.Parameters[2].Value = issue.OriginalValue;
            _issue.ExecuteNonQuery();
        }
        return Task.FromResult(inserted);
    }

    public Task<int?> MergeNextAsync(bool final, CancellationToken ct)
    {
        if (_sorted is null)
        {
            // Close the run: a full one while the list streams in, the rest at the end.
            if (_count == 0 || (!final && _count < RunSize)) return Task.FromResult<int?>(null);
            _sorted = new int[_count];
            for (var i = 0; i < _count; i++) _sorted[i] = i;
            // By HMAC, and of equal ones the first in the list first: that one is entered, the later ones are duplicates.
            var hmacs = _hmacs;
            Array.Sort(_sorted, (a, b) => Hmac(hmacs, a).SequenceCompareTo(Hmac(hmacs, b)) is var order and not 0 ? order : a.CompareTo(b));
            _merged = 0;
        }
        Enlist(_enter, _remove);
        var step = _sorted.AsSpan(_merged, Math.Min(StepSize, _sorted.Length - _merged));
        _merged += step.Length;
        var taken = new List<string>();
        foreach (var i in step)
        {
            ct.ThrowIfCancellationRequested();
            var id = IdText(_ids[i]);
            _enter.Parameters[0].Value = Hmac(_hmacs, i).ToArray();
            _enter.Parameters[1].Value = id;
            if (_enter.ExecuteNonQuery() == 0) taken.Add(id);
        }
        // In id order: the deletes walk the contacts' indexes forwards.
        taken.Sort(StringComparer.Ordinal);
        foreach (var id in taken)
        {
            _remove.Parameters[0].Value = id;
            _remove.ExecuteNonQuery();
        }
        if (_merged == _sorted.Length) (_sorted, _count) = (null, 0);
        return Task.FromResult<int?>(taken.Count);
    }

    /// <summary>Keeps a written number for the run, growing the blocks only if a chunk overshoots the run (they are reused after).</summary>
    private void Hold(Guid id, byte[] hmac)
    {
        if (_count == _ids.Length)
        {
            var capacity = Math.Max(RunSize + StepSize, _ids.Length * 2);
            Array.Resize(ref _ids, capacity);
            Array.Resize(ref _hmacs, capacity * HmacBytes);
        }
        hmac.CopyTo(_hmacs.AsSpan(_count * HmacBytes, HmacBytes));
        _ids[_count++] = id;
    }

    private static ReadOnlySpan<byte> Hmac(byte[] hmacs, int i) => hmacs.AsSpan(i * HmacBytes, HmacBytes);

    /// <summary>EF's SQLite provider stores Guids as upper-case text.</summary>
    private static string IdText(Guid id) => id.ToString().ToUpperInvariant();

    public async ValueTask DisposeAsync()
    {
        await _known.DisposeAsync();
        await _contact.DisposeAsync();
        await _issue.DisposeAsync();
        await _enter.DisposeAsync();
        await _remove.DisposeAsync();
        // The connection goes back to the pool: it must not keep the import's page cache (64 MB) or checkpoint interval.
        // A failure here must not hide the one that ended the import; a broken connection is not reused anyway.
        try
        {
            if (_connection.State == ConnectionState.Open && _db.Database.CurrentTransaction is null)
                await ExecuteAsync(_connection, "PRAGMA cache_size = -2000; PRAGMA wal_autocheckpoint = 1000; PRAGMA shrink_memory;", CancellationToken.None);
        }
        catch (SqliteException) { }
        if (_closeConnection) await _db.Database.CloseConnectionAsync();
    }

    /// <summary>Puts the commands into the caller's transaction (every bulk write belongs in one).</summary>
    private void Enlist(params SqliteCommand[] commands)
    {
        var transaction = (SqliteTransaction)_db.RequireTransaction(BulkSql.NeedsTransaction);
        foreach (var command in commands) command.Transaction = transaction;
    }

    private SqliteCommand Command(string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters) command.Parameters.Add(name, type);
        return command;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}
