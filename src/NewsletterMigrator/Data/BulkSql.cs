namespace NewsletterMigrator.Data;

/// <summary>
/// The bulk paths' SQL, the one place that knows the database's dialect (ARCHITECTURE: SQL dialect in one place): the
/// import's chunks, a campaign's fan-out, the outbox lease and its results. One implementation per provider
/// (<see cref="SqliteBulkSql"/>, <see cref="PostgresBulkSql"/>), registered by Database:Provider. The features keep the
/// rules (what counts as a duplicate or an issue, when to commit, what is due) and hold no SQL. Every statement runs on
/// the context's connection and inside its current transaction, where the caller has begun one.
/// </summary>
public interface IBulkSql
{
    /// <summary>
    /// A writer for one import batch's contacts and report rows. Its <see cref="IContactWriter.WriteAsync"/> needs the
    /// caller's transaction: the batch stays invisible until the caller marks it completed, and a chunk is all or nothing.
    /// </summary>
    Task<IContactWriter> OpenContactWriterAsync(AppDbContext db, ContactBatch batch, CancellationToken ct);

    /// <summary>
    /// A writer for a campaign's fan-out: one queued outbox row per confirmed reader of the newsletter, a batch per call,
    /// each in the caller's transaction. Rows already written (an interrupted run) are skipped by the unique
    /// (campaign, subscriber) index.
    /// </summary>
    IFanOutWriter OpenFanOut(AppDbContext db, FanOutSpec spec);

    /// <summary>
    /// Leases up to <see cref="OutboxLeaseRequest.Take"/> outbox rows that are due (queued and due by the app's clock,
    /// or leased with an expired lease; a campaign row only while its campaign is sending) to the owner, so that two
    /// workers, in this process or on other hosts, never hold the same row, and within <see cref="OutboxLeaseRequest.HourlyCap"/>.
    /// Returns the ids it took.
    /// </summary>
    Task<IReadOnlyList<long>> LeaseOutboxAsync(AppDbContext db, OutboxLeaseRequest request, CancellationToken ct);

    /// <summary>
    /// Writes delivery results in the caller's transaction and ends their leases; each only while the row is still leased
    /// to <paramref name="owner"/> (a row whose lease expired and was taken by another worker is not overwritten).
    /// Returns, per result, whether it was written.
    /// </summary>
    Task<bool[]> WriteOutboxResultsAsync(AppDbContext db, string owner, IReadOnlyList<OutboxResult> results, CancellationToken ct);

    /// <summary>
    /// The clock leases expire by, for the leases the features write through EF (the WhatsApp queue): the database's
    /// clock on PostgreSQL, where several hosts share the rows and only the server's clock is the same for all of them;
    /// the app's clock (TimeProvider) on SQLite, which has one host and whose tests move the clock.
    /// </summary>
    Task<DateTime> LeaseClockAsync(AppDbContext db, CancellationToken ct);
}

internal static class BulkSql
{
    /// <summary>Why a bulk write refuses to run outside a transaction (<see cref="CallerTransaction"/>).</summary>
    public const string NeedsTransaction = "A bulk write belongs in the caller's transaction";
}

/// <summary>The import batch a <see cref="IContactWriter"/> writes into.</summary>
public sealed record ContactBatch(int BatchId, int NewsletterId, DateTime CreatedAtUtc);

/// <summary>A contact ready to store: number sealed, HMAC made (its invitation link is derived when shown, nothing of it is stored).</summary>
public readonly record struct NewContact(Guid Id, byte[] PhoneHmac, byte[] PhoneEncrypted, string? DisplayName);

/// <summary>A row of the import's report (a line not imported, with its reason).</summary>
public readonly record struct NewImportIssue(int Line, string Reason, string OriginalValue);

/// <summary>
/// Writes an import's contacts into its (still invisible) batch, and each number into ContactPhones, whose unique key
/// (newsletter, HMAC) keeps the first contact of a number: the newsletter's own, or the first in the list.
/// </summary>
public interface IContactWriter : IAsyncDisposable
{
    /// <summary>
    /// Inserts the contacts and report rows in the context's current transaction. A number the newsletter already has is
    /// skipped here; one that appears twice in the list may be found only by <see cref="MergeNextAsync"/>. Returns how many
    /// contacts were inserted.
    /// </summary>
    Task<int> WriteAsync(IReadOnlyList<NewContact> contacts, IReadOnlyList<NewImportIssue> issues, CancellationToken ct);

    /// <summary>
    /// Enters the next part of the written numbers into ContactPhones, in the context's current transaction, and removes the
    /// contacts whose number was taken already. Returns how many it removed, or null when there is nothing to enter now:
    /// between chunks a writer may hold numbers back for a larger sorted run; <paramref name="final"/> (after the last
    /// chunk) takes all that is left.
    /// </summary>
    Task<int?> MergeNextAsync(bool final, CancellationToken ct);
}

/// <param name="MessageIdHost">The right-hand side of every row's Message-ID (the installation's host).</param>
/// <param name="CreatedAtUtc">The rows' creation and first due time (the campaign's start).</param>
/// <param name="Priority">The rows' priority in the outbox (campaign rows go after DOI and test mails).</param>
public sealed record FanOutSpec(int CampaignId, int NewsletterId, string MessageIdHost, DateTime CreatedAtUtc, int Priority, int BatchSize);

/// <param name="Written">Rows inserted by this batch (rows written by an earlier run are not counted again).</param>
/// <param name="Last">No confirmed reader is left after this batch.</param>
public readonly record struct FanOutStep(int Written, bool Last);

public interface IFanOutWriter : IAsyncDisposable
{
    /// <summary>Writes the next batch of readers in the context's current transaction.</summary>
    Task<FanOutStep> WriteNextAsync(CancellationToken ct);
}

/// <param name="Now">The app's clock: a queued row is due when its next attempt time has come by it.</param>
/// <param name="HourlyCap">
/// Smtp:MessagesPerHour (0: none). Across every instance on the database, the mails sent in the hour before
/// <paramref name="Now"/> plus the rows leased right now (in flight, by any instance) never exceed it: one instance at a
/// time counts and leases, so what it took counts against the cap for the next one.
/// </param>
public sealed record OutboxLeaseRequest(string Owner, int Take, DateTime Now, TimeSpan Duration, int HourlyCap = 0);

/// <summary>What happened to one leased row. Null fields keep the row's value.</summary>
public readonly record struct OutboxResult(long Id, MessageStatus Status, bool CountsAsAttempt, string? Reply, DateTime? NextAttemptAtUtc, DateTime? SentAtUtc);
