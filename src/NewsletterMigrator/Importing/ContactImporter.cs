using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

public sealed record ImportSummary(int BatchId, int Rows, int Imported, int Duplicates, int Invalid, IReadOnlyDictionary<string, int> Reasons)
{
    /// <summary>
    /// The report's notes by reason: further numbers of an entry that were not taken (<see cref="PhoneChoice.NoteReasons"/>).
    /// They annotate rows, imported or not, so they are not part of <see cref="Invalid"/>.
    /// </summary>
    public IReadOnlyDictionary<string, int> Notes { get; init; } = new Dictionary<string, int>();

    /// <summary>Why nothing was imported (C16, C36); empty when the import ran.</summary>
    public IReadOnlyList<ImportRefusal> Refusals { get; init; } = [];

    public bool Refused => Refusals.Count > 0;

    public static ImportSummary RefusedFor(IReadOnlyList<ImportRefusal> refusals) =>
        new(0, 0, 0, 0, 0, new Dictionary<string, int>()) { Refusals = refusals };
}

/// <summary>The batch a background import fills, or why it may not start.</summary>
public sealed record ImportStart(int BatchId, IReadOnlyList<ImportRefusal> Refusals)
{
    public bool Refused => Refusals.Count > 0;
}

/// <summary>
/// Imports a list into a newsletter: normalise, skip duplicates (by keyed HMAC) and suppressed numbers,
/// encrypt, insert. The list streams through in chunks, each committed in its own short transaction
/// into a batch with status Running, which keeps its contacts invisible (AppDbContext's query filter);
/// only the last step marks it Completed. A failed or cancelled import deletes the batch's contacts again, so
/// nothing is left behind (all or nothing). The batch is held by this process's lease (<see cref="ImportLeases"/>)
/// from its start until it has ended, so another instance removes it only if this process dies.
/// </summary>
public sealed class ContactImporter(AppDbContext db, PhoneProtector phones, TimeProvider clock, IOptions<ImportOptions> options,
    ILogger<ContactImporter> logger, ReaderDataChanges readerData, IBulkSql bulk, ImportLeases leases)
{
    private readonly SequentialIds _ids = new();

    /// <summary>Rows per chunk: large enough to amortise a commit, small enough to keep memory flat.</summary>
    internal const int ChunkSize = 4096;

    /// <summary>
    /// Reads, checks and (unless a dry run) imports the whole file; the call returns when it is done. A real
    /// import needs its legal basis and the newsletter's migration end date (<see cref="ImportRules"/>); a dry
    /// run stores nothing and needs neither.
    /// </summary>
    public async Task<ImportSummary> ImportAsync(int newsletterId, Stream file, string fileName, string userName,
        ImportLegalBasis? legalBasis, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        if (dryRun) return await RunAsync(0, newsletterId, file, fileName, userName, null, null, cancellationToken);
        var start = await StartBatchAsync(newsletterId, fileName, userName, legalBasis, cancellationToken, SafeLength(file));
        if (start.Refused) return ImportSummary.RefusedFor(start.Refusals);
        // Held while it runs, as a background job's is: an instance's check for crashed imports leaves it alone, and the
        // editor's Cancel on its page (it is listed like any import) stops it.
        using var holding = leases.Hold(start.BatchId);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, holding.Token);
        holding.Progress = new ImportProgress(SafeLength(file), clock.GetUtcNow().UtcDateTime);
        var summary = await RunAsync(start.BatchId, newsletterId, file, fileName, userName, null, holding.Progress, linked.Token);
        await leases.ReleaseAsync(start.BatchId);
        return summary;
    }

    /// <summary>Creates the invisible batch a background import fills (its id names the import in the UI), unless a rule refuses it.</summary>
    /// <param name="totalBytes">The size of the list, for the progress bar (0: unknown).</param>
    public async Task<ImportStart> StartBatchAsync(int newsletterId, string fileName, string userName, ImportLegalBasis? legalBasis, CancellationToken cancellationToken,
        long totalBytes = 0)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, cancellationToken);
        var refusals = ImportRules.Check(newsletter, legalBasis, clock.GetUtcNow().UtcDateTime);
        if (refusals.Count > 0)
        {
            logger.LogInformation("Import into newsletter {NewsletterId} refused: {Refusals}", newsletterId, string.Join(", ", refusals));
            return new ImportStart(0, refusals);
        }
        var basis = legalBasis!.Trimmed();
        var batch = new ImportBatch
        {
            NewsletterId = newsletterId,
            FileName = Truncate(Path.GetFileName(fileName), 255),
            LegalBasisKind = basis.Kind,
            LegalBasis = Truncate(basis.Text, LegalBases.MaxTextLength),
            CreatedBy = userName,
            CreatedAtUtc = clock.GetUtcNow().UtcDateTime,
            Status = ImportStatus.Running,
            // This process's from the start, also while it waits in the queue: no instance removes it as crashed.
            LeaseOwner = leases.Owner,
            LeaseExpiresAtUtc = leases.ExpiryFromNow(),
            TotalBytes = totalBytes,
        };
        db.ImportBatches.Add(batch);
        await db.SaveChangesAsync(cancellationToken);
        db.Entry(batch).State = EntityState.Detached;
        return new ImportStart(batch.Id, []);
    }

    /// <summary>
    /// Imports into the Running batch <paramref name="batchId"/> (0: dry run, nothing is written).
    /// On failure or cancellation the batch and everything in it is deleted before the exception leaves.
    /// <paramref name="prepared"/>: the file is the spool's copy that the preview prepared (see <see cref="ListReader.Read"/>).
    /// <paramref name="outcomeOf"/>: for a job whose page shows how it ended, the emptied batch is kept as Failed with the
    /// resource key this gives for the exception (<see cref="ImportBatch.OutcomeKey"/>) instead of being deleted.
    /// </summary>
    public async Task<ImportSummary> RunAsync(int batchId, int newsletterId, Stream file, string fileName, string userName,
        ImportMapping? mapping, ImportProgress? progress, CancellationToken cancellationToken, bool prepared = false, Func<Exception, string>? outcomeOf = null)
    {
        try
        {
            if (batchId != 0)
            {
                // Running now, not queued; the size of what is read (a ZIP's list, not the ZIP) for the progress bar.
                var now = clock.GetUtcNow().UtcDateTime;
                var total = progress?.TotalBytes ?? 0;
                await db.ImportBatches.Where(b => b.Id == batchId)
                    .ExecuteUpdateAsync(u => u.SetProperty(b => b.StartedAtUtc, now).SetProperty(b => b.TotalBytes, total), cancellationToken);
            }
            var summary = await RunCoreAsync(batchId, newsletterId, file, fileName, userName, mapping, progress, prepared, cancellationToken);
            // A completed import's legal basis is part of the Art. 13 text (C36): the batch is completed by ExecuteUpdate, which
            // passes no SaveChanges interceptor, so the reader pages' cache is told here.
            if (batchId != 0) readerData.Bump();
            return summary;
        }
        catch (Exception ex) when (batchId != 0)
        {
            await DiscardAsync(batchId, outcomeOf?.Invoke(ex));
            throw;
        }
    }

    private async Task<ImportSummary> RunCoreAsync(int batchId, int newsletterId, Stream file, string fileName, string userName,
        ImportMapping? mapping, ImportProgress? progress, bool prepared, CancellationToken cancellationToken)
    {
        var dryRun = batchId == 0;
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, cancellationToken);
        var suppressed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var hash in db.Suppressions.Where(s => s.Kind == SuppressionKind.Phone).Select(s => s.Hash).AsAsyncEnumerable().WithCancellation(cancellationToken))
            suppressed.Add(Convert.ToBase64String(hash));
        // A dry run writes nothing, so it remembers the numbers itself; a real import lets the unique key of
        // ContactPhones (newsletter, HMAC) find duplicates, which keeps memory flat however long the list is.
        HashSet<UInt128>? seen = null;
        if (dryRun)
        {
            seen = [];
            await foreach (var hmac in db.ContactPhones.Where(p => p.NewsletterId == newsletterId).Select(p => p.PhoneHmac).AsAsyncEnumerable().WithCancellation(cancellationToken))
                seen.Add(Key(hmac));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var counts = new Counts();
        var rows = ListReader.Read(file, fileName, mapping, ReadLimits.From(options.Value), prepared).GetEnumerator();
        await using var writer = dryRun ? null : await ChunkWriter.OpenAsync(db, bulk, batchId, newsletterId, now, leases.Owner, cancellationToken);
        var pending = Task.Run(() => Prepare(rows, newsletter.DefaultRegion, suppressed), cancellationToken);
        try
        {
            while (true)
            {
                var chunk = await pending;
                if (chunk.Length == 0) break;
                cancellationToken.ThrowIfCancellationRequested();
                // Read and encrypt the next chunk while this one is written.
                pending = Task.Run(() => Prepare(rows, newsletter.DefaultRegion, suppressed), cancellationToken);
                counts.BytesRead = SafePosition(file);
                if (writer is not null) await writer.WriteAsync(chunk, counts, cancellationToken);
                else Count(chunk, counts, seen!);
                progress?.Report(counts.Rows, SafePosition(file));
            }
        }
        finally
        {
            // The reader must not be disposed under a chunk still being prepared.
            try { await pending; } catch (Exception) when (!pending.IsCompletedSuccessfully) { }
            rows.Dispose();
        }

        // Nothing to import is a mistake to report, not an empty completed import on record (issue 13).
        if (counts.Rows == 0) throw ListReader.Empty();
        if (writer is not null)
        {
            await writer.CompleteAsync(counts, cancellationToken);
            db.AuditEntries.Add(new AuditEntry { AtUtc = now, UserName = userName, Action = "import", Details = $"newsletter {newsletterId}, batch {batchId}, file {Path.GetFileName(fileName)}, {counts.Imported} imported" });
            await db.SaveChangesAsync(CancellationToken.None);
        }
        logger.LogInformation("Import into newsletter {NewsletterId}: {Rows} rows, {Imported} imported, {Duplicates} duplicates, {Invalid} invalid{DryRun}",
            newsletterId, counts.Rows, counts.Imported, counts.Duplicates, counts.InvalidCount, dryRun ? " (dry run)" : "");
        return new ImportSummary(batchId, counts.Rows, counts.Imported, counts.Duplicates, counts.InvalidCount, counts.Reasons) { Notes = counts.Notes };
    }

    /// <summary>
    /// Deletes a batch that did not complete, with its contacts and report rows; with <paramref name="outcomeKey"/> the
    /// batch row itself stays, emptied, as Failed with that reason, so its page (on any instance) says how it ended.
    /// <see cref="ImportSweeper"/> deletes such rows after a day.
    /// </summary>
    public async Task DiscardAsync(int batchId, string? outcomeKey = null)
    {
        try
        {
            await db.ImportIssues.Where(i => i.ImportBatchId == batchId).ExecuteDeleteAsync(CancellationToken.None);
            // The numbers the batch entered first: found through its contacts, which say which entries are theirs.
            await db.ContactPhones.Where(p => db.Contacts.IgnoreQueryFilters()
                    .Any(c => c.ImportBatchId == batchId && c.Id == p.ContactId && c.NewsletterId == p.NewsletterId && c.PhoneHmac == p.PhoneHmac))
                .ExecuteDeleteAsync(CancellationToken.None);
            await db.Contacts.IgnoreQueryFilters().Where(c => c.ImportBatchId == batchId).ExecuteDeleteAsync(CancellationToken.None);
            var unfinished = db.ImportBatches.Where(b => b.Id == batchId && b.Status != ImportStatus.Completed);
            if (outcomeKey is null) await unfinished.ExecuteDeleteAsync(CancellationToken.None);
            else
                await unfinished.Where(b => b.LeaseOwner == leases.Owner).ExecuteUpdateAsync(u => u.SetProperty(b => b.Status, ImportStatus.Failed)
                    .SetProperty(b => b.OutcomeKey, outcomeKey).SetProperty(b => b.RowsRead, 0).SetProperty(b => b.Imported, 0)
                    .SetProperty(b => b.Duplicates, 0).SetProperty(b => b.Invalid, 0), CancellationToken.None);
            logger.LogWarning("Import batch {BatchId} did not complete and was removed", batchId);
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException or InvalidOperationException)
        {
            // Its lease expires, and then any instance's ImportSweeper removes it.
            logger.LogError(ex, "Import batch {BatchId} could not be removed", batchId);
        }
    }

    private static long SafeLength(Stream file)
    {
        try { return file.CanSeek ? file.Length : 0; }
        catch (NotSupportedException) { return 0; }
    }

    private static long SafePosition(Stream file)
    {
        try { return file.CanSeek ? file.Position : 0; }
        catch (ObjectDisposedException) { return 0; }
    }

    /// <summary>The per-row work (parse, HMAC, AES-GCM), spread over the cores. No invitation token: its link is derived when shown.</summary>
    private PreparedRow[] Prepare(IEnumerator<ContactRow> rows, string region, HashSet<string> suppressed)
    {
        var chunk = new List<ContactRow>(ChunkSize);
        while (chunk.Count < ChunkSize && rows.MoveNext()) chunk.Add(rows.Current);
        var prepared = new PreparedRow[chunk.Count];
        var ids = new Guid[chunk.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = _ids.Next();
        Parallel.For(0, chunk.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            phones.CreateSession,
            (i, _, session) =>
            {
                prepared[i] = PrepareRow(chunk[i], ids[i], region, suppressed, session);
                return session;
            },
            session => session.Dispose());
        return prepared;
    }

    private static PreparedRow PrepareRow(ContactRow row, Guid id, string region, HashSet<string> suppressed, PhoneProtector.Session phones)
    {
        var result = PhoneChoice.Choose(row, region);
        if (!result.IsValid) return new PreparedRow(row, result.InvalidReason, null, null, Guid.Empty, result.Notes);
        var hmac = phones.Hmac(result.E164!);
        // Suppression entries of kind Phone hold PhoneProtector.Hmac of the E.164 number (C18).
        if (suppressed.Count > 0 && suppressed.Contains(Convert.ToBase64String(hmac)))
            return new PreparedRow(row, InvalidReason.Suppressed, null, null, Guid.Empty, result.Notes);
        return new PreparedRow(row, null, hmac, phones.Encrypt(result.E164!), id, result.Notes);
    }

    private static void Count(PreparedRow[] chunk, Counts counts, HashSet<UInt128> seen)
    {
        foreach (var p in chunk)
        {
            counts.Rows++;
            counts.Note(p.Notes);
            if (p.Reason is not null) counts.Invalid(p.Reason);
            else if (seen.Add(Key(p.Hmac!))) counts.Imported++;
            else counts.Duplicates++;
        }
    }

    private static UInt128 Key(byte[] hmac) => BitConverter.ToUInt128(hmac, 0);

    internal static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    /// <summary>
    /// Version-7 ids that keep the file's order (the contact list sorts by id), although rows are
    /// prepared in parallel: one random v7 prefix per import, then a counter in the 62 random bits.
    /// </summary>
    internal sealed class SequentialIds
    {
        private readonly byte[] _prefix = Guid.CreateVersion7().ToByteArray(bigEndian: true)[..8];
        private ulong _counter = (ulong)Random.Shared.NextInt64() >> 4;

        public Guid Next()
        {
            Span<byte> bytes = stackalloc byte[16];
            _prefix.CopyTo(bytes);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], (2UL << 62) | (_counter++ & 0x3FFF_FFFF_FFFF_FFFFUL));
            return new Guid(bytes, bigEndian: true);
        }
    }

    /// <param name="Notes">The entry's further numbers that were not taken (<see cref="PhoneChoice"/>), for the row report; null for most rows.</param>
    internal sealed record PreparedRow(ContactRow Row, string? Reason, byte[]? Hmac, byte[]? Encrypted, Guid Id, PhoneNote[]? Notes = null);

    internal sealed class Counts
    {
        public int Rows;
        /// <summary>How far into the file the rows counted so far reach, for the share read that every instance's progress page shows.</summary>
        public long BytesRead;
        public int Imported;
        public int Duplicates;
        public Dictionary<string, int> Reasons { get; } = [];
        public int InvalidCount;

        public Dictionary<string, int> Notes { get; } = [];

        public void Invalid(string reason)
        {
            InvalidCount++;
            Reasons[reason] = Reasons.GetValueOrDefault(reason) + 1;
        }

        public void Note(PhoneNote[]? notes)
        {
            if (notes is null) return;
            foreach (var note in notes) Notes[note.Reason] = Notes.GetValueOrDefault(note.Reason) + 1;
        }
    }
}
