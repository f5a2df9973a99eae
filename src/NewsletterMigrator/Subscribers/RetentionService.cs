using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

/// <summary>
/// Forgets on schedule what the app no longer needs (C15–C17) and records each run with its counts.
/// Deleting consent ledger rows here is the one deliberate exception to the ledger's append-only rule:
/// it happens only through <c>ExecuteDelete</c> in <see cref="DeleteExpiredProofAsync"/>, after C17 ends.
/// </summary>
public sealed class RetentionService(AppDbContext db, KeyRing keys, IOptions<RetentionOptions> options, TimeProvider clock,
    ILogger<RetentionService> logger)
{
    private static readonly TimeZoneInfo BerlinZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private const int Chunk = 500;

    public async Task<RetentionRun> RunAsync(string trigger, CancellationToken ct = default)
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
    /// funnel's counts; its phone HMAC takes the value of its (unique, meaningless) invitation token hash so
    /// the unique index holds and nothing links the row to a number any more.
    /// </summary>
    private async Task<int> DeleteEndedMigrationContactsAsync(DateTime now, CancellationToken ct) =>
        await db.Contacts
            .Where(c => db.Newsletters.Any(n => n.Id == c.NewsletterId && n.MigrationEndsAtUtc != null && n.MigrationEndsAtUtc < now)
                        && (c.PhoneEncrypted != null || c.DisplayName != null || c.PhoneHmac != c.InviteTokenHash))
            .ExecuteUpdateAsync(u => u
                .SetProperty(c => c.PhoneEncrypted, (byte[]?)null)
                .SetProperty(c => c.DisplayName, (string?)null)
                .SetProperty(c => c.PhoneHmac, c => c.InviteTokenHash), ct);

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

/// <summary>Runs the retention jobs once a day at Retention:DailyAt (Berlin time).</summary>
public sealed class RetentionWorker(
    IServiceScopeFactory scopes, IOptions<RetentionOptions> options, InstanceIdentity instance, TimeProvider clock, ILogger<RetentionWorker> logger)
    : BackgroundService
{
    public const string InterruptedError = "interrupted: the process stopped during the run";

    private readonly DateTime _startedUtc = clock.GetUtcNow().UtcDateTime;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RepeatInterruptedRunAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var next = RetentionService.NextRunUtc(now, options.Value.DailyAtTime());
            try
            {
                await Task.Delay(next - now, clock, stoppingToken);
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync("schedule", stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Scheduled retention run failed; the next one follows tomorrow");
            }
        }
    }

    /// <summary>
    /// A run this instance was in when it died (kill -9, or a stop mid-run) has no end time. It is closed as
    /// interrupted, so the admin page does not show it as a run that found nothing, and the jobs run again
    /// now rather than at tomorrow's DailyAt: every step only deletes or blanks what is due, so a second
    /// pass over what the first one finished changes nothing. Only the process holding the instance id
    /// does this; a second process on the same data folder by mistake leaves the other's run alone.
    /// (With several instances a run would need its instance id, as leases have, before this could tell
    /// another instance's live run from a dead one.)
    /// </summary>
    private async Task RepeatInterruptedRunAsync(CancellationToken ct)
    {
        if (!instance.OwnsPersistedId) return;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var interrupted = await db.RetentionRuns.Where(r => r.FinishedAtUtc == null && r.StartedAtUtc < _startedUtc)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.FinishedAtUtc, _startedUtc).SetProperty(r => r.Error, InterruptedError), ct);
            if (interrupted == 0) return;
            logger.LogWarning("A retention run was interrupted when the process stopped; running the retention jobs again now");
            await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync("restart", ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Repeating an interrupted retention run failed; the next one follows at the scheduled time");
        }
    }
}
