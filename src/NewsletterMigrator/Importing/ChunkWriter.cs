using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

/// <summary>
/// The hot path of an import: one short transaction per chunk, the rows written by the provider's bulk statements
/// (<see cref="IBulkSql"/>: prepared commands on SQLite, binary COPY on PostgreSQL; EF's AddRange is about ten times
/// slower). The unique key of ContactPhones (newsletter, HMAC) finds duplicates, in the file and against the newsletter,
/// without holding every number in memory; on SQLite partly only in the merge that <see cref="CompleteAsync"/> runs, so
/// the counts of imported rows and duplicates are final only then. The batch stays Running, and its contacts invisible,
/// until the merge is done.
/// </summary>
internal sealed class ChunkWriter : IAsyncDisposable
{
    private readonly AppDbContext _db;
    private readonly IContactWriter _writer;
    private readonly int _batchId;
    private readonly string _owner;
    private readonly List<NewContact> _contacts = new(ContactImporter.ChunkSize);
    private readonly List<NewImportIssue> _issues = [];

    private ChunkWriter(AppDbContext db, IContactWriter writer, int batchId, string owner)
    {
        _db = db;
        _writer = writer;
        _batchId = batchId;
        _owner = owner;
    }

    /// <param name="owner">The batch's lease owner (<see cref="ImportLeases.Owner"/>): each chunk, and the completion, is written only while
    /// the batch is still this process's, so an import another instance has taken over as crashed can never complete.</param>
    public static async Task<ChunkWriter> OpenAsync(AppDbContext db, IBulkSql bulk, int batchId, int newsletterId, DateTime now, string owner, CancellationToken cancellationToken) =>
        new(db, await bulk.OpenContactWriterAsync(db, new ContactBatch(batchId, newsletterId, now), cancellationToken), batchId, owner);

    public async Task WriteAsync(ContactImporter.PreparedRow[] chunk, ContactImporter.Counts counts, CancellationToken cancellationToken)
    {
        _contacts.Clear();
        _issues.Clear();
        foreach (var p in chunk)
        {
            counts.Rows++;
            counts.Note(p.Notes);
            if (p.Notes is { } notes)
            {
                foreach (var note in notes) Issue(p.Row.Line, note.Reason, note.Value);
            }
            if (p.Reason is not null)
            {
                counts.Invalid(p.Reason);
                Issue(p.Row.Line, p.Reason, p.Row.Phone ?? "");
                continue;
            }
            _contacts.Add(new NewContact(p.Id, p.Hmac!, p.Encrypted!,
                string.IsNullOrWhiteSpace(p.Row.Name) ? null : ContactImporter.Truncate(p.Row.Name.Trim(), 200)));
        }
        await using var transaction = await _db.Database.BeginTransactionAsync(cancellationToken);
        var inserted = await _writer.WriteAsync(_contacts, _issues, cancellationToken);
        counts.Imported += inserted;
        counts.Duplicates += _contacts.Count - inserted;
        await UpdateBatchAsync(counts, ImportStatus.Running, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await MergeAsync(counts, final: false, cancellationToken);
    }

    /// <summary>
    /// Merges the numbers the chunks left for later (<see cref="IContactWriter.MergeNextAsync"/>), then makes the batch's
    /// contacts visible: the one moment they become so.
    /// </summary>
    public async Task CompleteAsync(ContactImporter.Counts counts, CancellationToken cancellationToken)
    {
        await MergeAsync(counts, final: true, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        await UpdateBatchAsync(counts, ImportStatus.Completed, CancellationToken.None);
    }

    /// <summary>Each merge step in its own short transaction, with the counts it corrects.</summary>
    private async Task MergeAsync(ContactImporter.Counts counts, bool final, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var transaction = await _db.Database.BeginTransactionAsync(cancellationToken);
            if (await _writer.MergeNextAsync(final, cancellationToken) is not { } removed) return;
            counts.Imported -= removed;
            counts.Duplicates += removed;
            await UpdateBatchAsync(counts, ImportStatus.Running, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private void Issue(int line, string reason, string value) => _issues.Add(new NewImportIssue(line, reason, ContactImporter.Truncate(value, 100)));

    private async Task UpdateBatchAsync(ContactImporter.Counts counts, ImportStatus status, CancellationToken cancellationToken)
    {
        var (rows, bytes, imported, duplicates, invalid) = (counts.Rows, counts.BytesRead, counts.Imported, counts.Duplicates, counts.InvalidCount);
        var owner = _owner;
        var updated = await _db.ImportBatches.Where(b => b.Id == _batchId && b.LeaseOwner == owner).ExecuteUpdateAsync(u => u
            // The bytes read with the rows: the lease's renewal writes them only about every second, so a fast import's page on
            // another instance showed rows read with 0 % of the file.
            .SetProperty(b => b.RowsRead, rows).SetProperty(b => b.BytesRead, bytes).SetProperty(b => b.Imported, imported).SetProperty(b => b.Duplicates, duplicates)
            .SetProperty(b => b.Invalid, invalid).SetProperty(b => b.Status, status), cancellationToken);
        if (updated != 1) throw new InvalidOperationException($"Import batch {_batchId} no longer exists or is no longer this instance's.");
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
