using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

/// <summary>What an attempt at a retention run did: ran, found the slot's run done already, or found another run going on.</summary>
public enum RetentionAttempt { Ran, AlreadyDone, Busy }

/// <summary>
/// Forgets on schedule what the app no longer needs (C15–C17) and records each run with its counts.
/// Deleting consent ledger rows here is the one deliberate exception to the ledger's append-only rule:
/// it happens only through <c>ExecuteDelete</c> in <see cref="DeleteExpiredProofAsync"/>, after C17 ends.
/// Every run, scheduled or by hand, holds the database lease <see cref="LeaseName"/> (<see cref="JobLeases"/>), so
/// with several instances on one database one run goes at a time, and a run without an end that is found under
/// the lease is certainly dead (its instance stopped): it is closed as interrupted (issue 18).
/// </summary>
public sealed class RetentionService(AppDbContext db, KeyRing keys, IOptions<RetentionOptions> options, TimeProvider clock,
    ILogger<RetentionService> logger, JobLeases leases, InstanceIdentity instance)
{
    public const string LeaseName = "retention";
    public const string InterruptedError = "interrupted: the process stopped during the run";

    /// <summary>Renewed every third of it while a run goes on; a dead instance's lease returns after it.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(5);

    private static readonly TimeZoneInfo BerlinZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private const int Chunk = 500;

    /// <summary>Runs the jobs now (an admin, a test); null when a run is going on already, on this or another instance.</summary>
    public Task<RetentionRun?> RunAsync(string trigger, CancellationToken ct = default) =>
        UnderLeaseAsync<RetentionRun?>(null, async (_, held) => await RunUnderLeaseAsync(trigger, held), ct);

    /// <summary>
    /// The scheduled run of the slot <paramref name="slotUtc"/>, once across all instances: every instance tries at the
    /// slot, the first to take the lease runs, and the others, under the lease in turn, find the slot's run done.
    /// A slot's run that was interrupted does not count: it is run again.
    /// </summary>
    public Task<RetentionAttempt> RunScheduledAsync(DateTime slotUtc, CancellationToken ct = default) =>
        UnderLeaseAsync(RetentionAttempt.Busy, async (_, held) =>
        {
            if (await db.RetentionRuns.AnyAsync(r => r.Trigger == "schedule" && r.StartedAtUtc >= slotUtc && (r.Error == null || r.Error != InterruptedError), held))
                return RetentionAttempt.AlreadyDone;
            await RunUnderLeaseAsync("schedule", held);
            return RetentionAttempt.Ran;
        }, ct);

    /// <summary>
    /// At start: a run some instance died in (kill -9, or a stop mid-run) has no end time. It is closed as interrupted, so
    /// the admin page does not show it as a run that found nothing, and the jobs run again now rather than at the next
    /// DailyAt: every step only deletes or blanks what is due, so a second pass over what the first finished changes nothing.
    /// </summary>
    public Task<RetentionAttempt> RepeatInterruptedAsync(CancellationToken ct = default) =>
        UnderLeaseAsync(RetentionAttempt.Busy, async (closed, held) =>
        {
            if (closed == 0) return RetentionAttempt.AlreadyDone;
            logger.LogWarning("A retention run was interrupted when its instance stopped; running the retention jobs again now");
            await RunUnderLeaseAsync("restart", held);
            return RetentionAttempt.Ran;
        }, ct);

    /// <summary>
    /// Runs <paramref name="work"/> under the retention lease, after closing the runs a dead instance left (it is told how
    /// many); <paramref name="busy"/> when another run holds the lease.
    /// </summary>
    private async Task<T> UnderLeaseAsync<T>(T busy, Func<int, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        var result = busy;
        await leases.RunExclusiveAsync(LeaseName, instance.NewLeaseOwner(), LeaseDuration,
            async held => result = await work(await CloseDeadRunsAsync(held), held), ct);
        return result;
    }

    /// <summary>Runs without an end: dead, since only the lease's holder runs and the caller holds it.</summary>
    private async Task<int> CloseDeadRunsAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.RetentionRuns.Where(r => r.FinishedAtUtc == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.FinishedAtUtc, now).SetProperty(r => r.Error, InterruptedError), ct);
    }

    private async Task<RetentionRun> RunUnderLeaseAsync(string trigger, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var run = new RetentionRun { StartedAtUtc = now, Trigger = trigger };
        db.RetentionRuns.Add(run);
        await db.SaveChangesAsync(ct);
        try
        {
            run.UnconfirmedDeleted = await DeleteUnconfirmedAsync(now, ct);
            run.PhoneNumbersDeleted = await DeleteEndedMigrationContactsAsync(now, ct);
            run.OutboxRowsScrubbed = await ScrubOutboxAsync(now, ct);
            run.ConsentProofsDeleted = await DeleteExpiredProofAsync(now, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            run.Error = ex.GetType().Name + ": " + Redact.Text(ex.Message);
            logger.LogError(ex, "Retention run {RunId} failed", run.Id);
        }
        run.FinishedAtUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Retention run {RunId}: {Unconfirmed} unconfirmed sign-ups, {Contacts} contacts' numbers, {Outbox} outbox rows, {Proofs} consent proofs",
            run.Id, run.UnconfirmedDeleted, run.PhoneNumbersDeleted, run.OutboxRowsScrubbed, run.ConsentProofsDeleted);
        return run;
    }

    /// <summary>
    /// C15: sign-ups not confirmed whose last DOI mail is older than the period. Their ledger rows stay
    /// pseudonymised until C17 ends. This includes a former subscriber who signed up again and never
    /// confirmed (C47): the row is Pending again but still carries the earlier ConfirmedAtUtc, so only the
    /// status decides. The earlier subscription's proof lives in the same ledger rows and stays with them;
    /// its last mail is carried over into the pseudonym and the outbox keeps its times for the C17 period.
    /// </summary>
    private async Task<int> DeleteUnconfirmedAsync(DateTime now, CancellationToken ct)
    {
        var cutoff = now - options.Value.UnconfirmedAfter;
        var stale = await db.Subscribers.AsNoTracking()
            .Where(s => s.Status == SubscriberStatus.Pending && (s.LastDoiQueuedAtUtc ?? s.CreatedAtUtc) < cutoff)
            .Select(s => new { s.Id, s.NewsletterId, s.EmailKey }).ToListAsync(ct);
        foreach (var chunk in stale.Chunk(Chunk))
        {
            var ids = chunk.Select(s => s.Id).ToList();
            var lastMails = await db.OutboundMessages.Where(m => m.SubscriberId != null && ids.Contains(m.SubscriberId.Value) && m.SentAtUtc != null)
                .GroupBy(m => m.SubscriberId!.Value).Select(g => new { g.Key, Last = g.Max(m => m.SentAtUtc) }).ToDictionaryAsync(x => x.Key, x => x.Last, ct);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            db.ErasedSubscribers.AddRange(chunk.Select(s => new ErasedSubscriber
            {
                SubscriberId = s.Id, NewsletterId = s.NewsletterId, EmailHash = SuppressionHash.Email(keys, s.EmailKey),
                Reason = "unconfirmed", ErasedAtUtc = now, LastMailAtUtc = lastMails.GetValueOrDefault(s.Id),
            }));
            await db.SaveChangesAsync(ct);
            await Outbox.CancelPendingAsync(db, ids, ct);
            await db.OutboundMessages.Where(m => m.SubscriberId != null && ids.Contains(m.SubscriberId.Value))
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.ToAddress, "").SetProperty(m => m.LastReply, (string?)null), ct);
            await db.Subscribers.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(ct);
            await transaction.CommitAsync(ct);
        }
        return stale.Count;
    }

    /// <summary>
    /// C16: once a newsletter's migration has ended, its contacts lose number and name. The row stays for the
    /// funnel's counts; its phone HMAC is emptied and its entry among the newsletter's numbers goes, so nothing links
    /// the row to a number any more.
    /// </summary>
    private async Task<int> DeleteEndedMigrationContactsAsync(DateTime now, CancellationToken ct)
    {
        var none = Array.Empty<byte>();
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        await db.ContactPhones.Where(p => db.Newsletters.Any(n => n.Id == p.NewsletterId && n.MigrationEndsAtUtc != null && n.MigrationEndsAtUtc < now))
            .ExecuteDeleteAsync(ct);
        var scrubbed = await db.Contacts
            .Where(c => db.Newsletters.Any(n => n.Id == c.NewsletterId && n.MigrationEndsAtUtc != null && n.MigrationEndsAtUtc < now)
                        && (c.PhoneEncrypted != null || c.DisplayName != null || c.PhoneHmac != none))
            .ExecuteUpdateAsync(u => u
                .SetProperty(c => c.PhoneEncrypted, (byte[]?)null)
                .SetProperty(c => c.DisplayName, (string?)null)
                .SetProperty(c => c.PhoneHmac, none), ct);
        if (transaction is not null) await transaction.CommitAsync(ct);
        return scrubbed;
    }

    /// <summary>Delivered (or finally failed or cancelled) mail keeps its Message-ID and times, not the address or the server's reply.</summary>
    private async Task<int> ScrubOutboxAsync(DateTime now, CancellationToken ct)
    {
        var cutoff = now.AddDays(-options.Value.OutboxDays);
        return await db.OutboundMessages
            .Where(m => (m.Status == MessageStatus.Sent || m.Status == MessageStatus.Failed || m.Status == MessageStatus.Cancelled)
                        && (m.SentAtUtc ?? m.CreatedAtUtc) < cutoff && (m.ToAddress != "" || m.LastReply != null))
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.ToAddress, "").SetProperty(m => m.LastReply, (string?)null), ct);
    }

    /// <summary>
    /// C17: proof is kept while the subscription runs and until the end of the configured number of calendar
    /// years after the year of the last mail or ledger event; then the ledger rows, the pseudonym, the
    /// (unsubscribed or bounced) subscriber row and its outbox rows go. Returns the number of subscriptions.
    /// </summary>
    private async Task<int> DeleteExpiredProofAsync(DateTime now, CancellationToken ct)
    {
        var ended = await db.ConsentEvents
            .Where(e => !db.Subscribers.Any(s => s.Id == e.SubscriberId && (s.Status == SubscriberStatus.Confirmed || s.Status == SubscriberStatus.Pending)))
            .GroupBy(e => e.SubscriberId).Select(g => new { Id = g.Key, Last = g.Max(e => e.OccurredAtUtc) }).ToListAsync(ct);
        var expired = new List<Guid>();
        foreach (var chunk in ended.Chunk(Chunk))
        {
            var ids = chunk.Select(x => x.Id).ToList();
            var lastMails = await db.OutboundMessages.Where(m => m.SubscriberId != null && ids.Contains(m.SubscriberId.Value) && m.SentAtUtc != null)
                .GroupBy(m => m.SubscriberId!.Value).Select(g => new { g.Key, Last = g.Max(m => m.SentAtUtc) }).ToDictionaryAsync(x => x.Key, x => x.Last, ct);
            expired.AddRange(chunk.Where(x => now >= ProofExpiresAtUtc(Max(x.Last, lastMails.GetValueOrDefault(x.Id)), options.Value.ConsentProofYears)).Select(x => x.Id));
        }
        foreach (var chunk in expired.Chunk(Chunk))
        {
            var ids = chunk.ToList();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.ConsentEvents.Where(e => ids.Contains(e.SubscriberId)).ExecuteDeleteAsync(ct);
            await db.ErasedSubscribers.Where(x => ids.Contains(x.SubscriberId)).ExecuteDeleteAsync(ct);
            await db.OutboundMessages.Where(m => m.SubscriberId != null && ids.Contains(m.SubscriberId.Value)).ExecuteDeleteAsync(ct);
            await db.Subscribers.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(ct);
            await transaction.CommitAsync(ct);
        }
        return expired.Count;
    }

    private static DateTime Max(DateTime a, DateTime? b) => b > a ? b.Value : a;

    /// <summary>The first moment after the C17 period: 1 January (Berlin) of year(last) + years + 1.</summary>
    public static DateTime ProofExpiresAtUtc(DateTime lastUtc, int years)
    {
        var lastYear = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(lastUtc, DateTimeKind.Utc), BerlinZone).Year;
        return TimeZoneInfo.ConvertTimeToUtc(new DateTime(lastYear + years + 1, 1, 1, 0, 0, 0, DateTimeKind.Unspecified), BerlinZone);
    }

    /// <summary>The next daily run at the configured Berlin time, strictly after <paramref name="nowUtc"/>.</summary>
    public static DateTime NextRunUtc(DateTime nowUtc, TimeOnly at)
    {
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(nowUtc, DateTimeKind.Utc), BerlinZone);
        for (var day = DateOnly.FromDateTime(local); ; day = day.AddDays(1))
        {
            var candidate = day.ToDateTime(at);
            // A time skipped by the switch to summer time runs an hour later that day.
            if (BerlinZone.IsInvalidTime(candidate)) candidate = candidate.AddHours(1);
            var utc = TimeZoneInfo.ConvertTimeToUtc(candidate, BerlinZone);
            if (utc > nowUtc) return utc;
        }
    }
}

/// <summary>
/// Runs the retention jobs once a day at Retention:DailyAt (Berlin time): once per day across all instances, not once
/// per instance (<see cref="RetentionService.RunScheduledAsync"/>).
/// </summary>
public sealed class RetentionWorker(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionWorker> logger)
    : BackgroundService
{
    public const string InterruptedError = RetentionService.InterruptedError;

    /// <summary>How often an instance that found the lease taken tries again, until the slot's run is done (by whoever).</summary>
    private static readonly TimeSpan Retry = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RepeatInterruptedRunAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var now = clock.GetUtcNow().UtcDateTime;
                var slot = RetentionService.NextRunUtc(now, options.Value.DailyAtTime());
                await Task.Delay(slot - now, clock, stoppingToken);
                await RunSlotAsync(slot, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Tries until the slot's run is done, here or on another instance: if the instance running it dies, its lease
    /// expires and the next try here finds its run interrupted and runs it again. Gives up at the next slot.
    /// </summary>
    private async Task RunSlotAsync(DateTime slot, CancellationToken ct)
    {
        var nextSlot = RetentionService.NextRunUtc(slot, options.Value.DailyAtTime());
        while (true)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                if (await scope.ServiceProvider.GetRequiredService<RetentionService>().RunScheduledAsync(slot, ct) != RetentionAttempt.Busy) return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Scheduled retention run failed; trying again in a minute");
            }
            if (clock.GetUtcNow().UtcDateTime + Retry >= nextSlot) return;
            await Task.Delay(Retry, clock, ct);
        }
    }

    /// <summary>
    /// At start, a run that some instance died in is closed and repeated (<see cref="RetentionService.RepeatInterruptedAsync"/>).
    /// While another instance holds the lease (it is running, or it died less than a lease ago) this tries again a minute later.
    /// </summary>
    private async Task RepeatInterruptedRunAsync(CancellationToken ct)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                if (await scope.ServiceProvider.GetRequiredService<RetentionService>().RepeatInterruptedAsync(ct) != RetentionAttempt.Busy) return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Repeating an interrupted retention run failed; the next one follows at the scheduled time");
                return;
            }
            await Task.Delay(Retry, clock, ct);
        }
    }
}
