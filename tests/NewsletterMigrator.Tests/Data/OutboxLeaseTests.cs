using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Data;

/// <summary>
/// The outbox lease where several instances share the rows (issue 18; ARCHITECTURE, leases on PostgreSQL): two
/// instances leasing at once never get the same row, one does not wait for another's lease in progress, and a worker
/// whose lease expired and was taken over cannot overwrite the new holder's row. Each leaser is a database connection
/// of its own, as on another host; the app's own worker is stopped, so only the leasers here touch the rows.
/// </summary>
public sealed class OutboxLeaseTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromHours(1);

    [ProviderTheory, DatabaseProviders]
    public async Task Instances_leasing_at_the_same_time_never_get_the_same_row(DatabaseProvider database)
    {
        const int rows = 600;
        await using var app = await StoppedAppWithQueuedMailAsync(database, rows);
        var bulk = Bulk(app);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<List<long>> LeaseUntilEmptyAsync(string owner)
        {
            await using var db = TestDatabases.Open(app);
            await db.Database.OpenConnectionAsync();
            var mine = new List<long>();
            await start.Task;
            while (await bulk.LeaseOutboxAsync(db, new OutboxLeaseRequest(owner, 20, DateTime.UtcNow, Duration), CancellationToken.None) is { Count: > 0 } ids)
                mine.AddRange(ids);
            return mine;
        }
        string[] owners = ["instance-a/run", "instance-b/run", "instance-c/run"];
        var leasers = owners.Select(owner => Task.Run(() => LeaseUntilEmptyAsync(owner))).ToList();
        start.SetResult();
        var leased = await Task.WhenAll(leasers);

        // Every row went to exactly one leaser, and the database names that leaser as its holder.
        var all = leased.SelectMany(ids => ids).ToList();
        Assert.Equal(rows, all.Count);
        Assert.Equal(rows, all.Distinct().Count());
        await using var check = TestDatabases.Open(app);
        var holders = await check.OutboundMessages.ToDictionaryAsync(m => m.Id, m => m.LeaseOwner);
        for (var i = 0; i < owners.Length; i++) Assert.All(leased[i], id => Assert.Equal(owners[i], holders[id]));
    }

    [ProviderTheory, InlineData(DatabaseProvider.Postgres)]
    public async Task A_leaser_takes_the_next_rows_instead_of_waiting_for_another_instances_lease_in_progress(DatabaseProvider database)
    {
        await using var app = await StoppedAppWithQueuedMailAsync(database, 10);
        var bulk = Bulk(app);
        await using var first = TestDatabases.Open(app);
        await using var transaction = await first.Database.BeginTransactionAsync();
        var held = await bulk.LeaseOutboxAsync(first, new OutboxLeaseRequest("instance-a/run", 4, DateTime.UtcNow, Duration), CancellationToken.None);
        Assert.Equal(4, held.Count);

        // The first instance has not committed: its rows are locked. The second takes the others at once.
        await using var second = TestDatabases.Open(app);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var next = await bulk.LeaseOutboxAsync(second, new OutboxLeaseRequest("instance-b/run", 10, DateTime.UtcNow, Duration), patience.Token);
        Assert.Equal(6, next.Count);
        Assert.Empty(next.Intersect(held));
        await transaction.CommitAsync();
    }

    [ProviderTheory, InlineData(DatabaseProvider.Postgres)]
    public async Task A_host_whose_clock_runs_ahead_does_not_take_another_hosts_lease_before_it_expires_by_the_database_clock(DatabaseProvider database)
    {
        await using var app = await StoppedAppWithQueuedMailAsync(database, 1);
        var bulk = Bulk(app);
        await using var db = TestDatabases.Open(app);
        var id = Assert.Single(await bulk.LeaseOutboxAsync(db, new OutboxLeaseRequest("instance-a/run", 10, DateTime.UtcNow, TimeSpan.FromMinutes(5)), CancellationToken.None));

        // Another host's clock is two hours ahead: by its own clock the five-minute lease is long over, by the server's it is not.
        Assert.Empty(await bulk.LeaseOutboxAsync(db, new OutboxLeaseRequest("instance-b/run", 10, DateTime.UtcNow + TimeSpan.FromHours(2), Duration), CancellationToken.None));
        Assert.Equal("instance-a/run", await db.OutboundMessages.Where(m => m.Id == id).Select(m => m.LeaseOwner).SingleAsync());
    }

    [ProviderTheory, DatabaseProviders]
    public async Task A_worker_whose_lease_expired_and_was_taken_over_cannot_overwrite_the_new_holders_row(DatabaseProvider database)
    {
        await using var app = await StoppedAppWithQueuedMailAsync(database, 1);
        var bulk = Bulk(app);
        await using var db = TestDatabases.Open(app);
        var id = Assert.Single(await bulk.LeaseOutboxAsync(db, new OutboxLeaseRequest("stalled/run", 10, DateTime.UtcNow, Duration), CancellationToken.None));

        // The stalled worker's lease runs out (past on either provider's lease clock), and another instance takes the row.
        var past = DateTime.UtcNow - TimeSpan.FromMinutes(1);
        await db.OutboundMessages.Where(m => m.Id == id).ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseExpiresAtUtc, past));
        Assert.Equal(id, Assert.Single(await bulk.LeaseOutboxAsync(db, new OutboxLeaseRequest("current/run", 10, DateTime.UtcNow, Duration), CancellationToken.None)));

        // The stalled worker comes back with its result: the row stays the new holder's, untouched.
        var later = DateTime.UtcNow + TimeSpan.FromHours(2);
        Assert.False(await WriteResultAsync(bulk, db, "stalled/run", new OutboxResult(id, MessageStatus.Failed, true, "550 5.1.1 too late", later, null)));
        var row = await db.OutboundMessages.AsNoTracking().SingleAsync(m => m.Id == id);
        Assert.Equal((MessageStatus.Leased, "current/run", 0, (string?)null), (row.Status, row.LeaseOwner, row.Attempts, row.LastReply));

        // The holder's own result is written, and ends the lease.
        var sent = DateTime.UtcNow;
        Assert.True(await WriteResultAsync(bulk, db, "current/run", new OutboxResult(id, MessageStatus.Sent, true, "250 2.0.0 queued", null, sent)));
        row = await db.OutboundMessages.AsNoTracking().SingleAsync(m => m.Id == id);
        Assert.Equal((MessageStatus.Sent, (string?)null, 1, "250 2.0.0 queued"), (row.Status, row.LeaseOwner, row.Attempts, row.LastReply));
        Assert.NotNull(row.SentAtUtc);
    }

    private static async Task<bool> WriteResultAsync(IBulkSql bulk, AppDbContext db, string owner, OutboxResult result)
    {
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var written = (await bulk.WriteOutboxResultsAsync(db, owner, [result], CancellationToken.None)).Single();
            await transaction.CommitAsync();
            return written;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The provider's bulk statements, as the app registers them.</summary>
    private static IBulkSql Bulk(AppFactory app) =>
        app.Provider == DatabaseProvider.Postgres ? new PostgresBulkSql() : new SqliteBulkSql(TimeProvider.System);

    /// <summary>A migrated database with a newsletter and <paramref name="rows"/> due test mails (no campaign), and no worker running.</summary>
    private static async Task<AppFactory> StoppedAppWithQueuedMailAsync(DatabaseProvider database, int rows)
    {
        var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        await app.StopHostAsync();
        await using var db = TestDatabases.Open(app);
        var now = DateTime.UtcNow;
        db.OutboundMessages.AddRange(Enumerable.Range(0, rows).Select(i => new OutboundMessage
        {
            Kind = MessageKind.Test, Status = MessageStatus.Queued, NewsletterId = newsletter.Id, ToAddress = $"leser{i}@example.test",
            MessageId = $"{Guid.NewGuid():N}@localhost", CreatedAtUtc = now, NextAttemptAtUtc = now,
        }));
        await db.SaveChangesAsync();
        return app;
    }
}
