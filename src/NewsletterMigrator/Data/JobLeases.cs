using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// "Run once across instances" (issue 18): a named lease in the database (table <c>JobLeases</c>: Name, Owner,
/// ExpiresAtUtc) that one owner holds until it expires. Several app instances on one database each try to take
/// it; one wins, the others learn that the job is someone else's right now.
/// <code>
/// var owner = instance.NewLeaseOwner();   // one per attempt: two attempts in one process must not share it
/// if (!await leases.TryAcquireAsync("retention", owner, TimeSpan.FromMinutes(5), ct)) return; // another instance has it
/// try { … await leases.RenewAsync("retention", owner, TimeSpan.FromMinutes(5), ct) well before expiry (false: lost, stop) … }
/// finally { await leases.ReleaseAsync("retention", owner); }
/// // or, with the renewing done (every third of the duration) and the work cancelled if the lease is lost:
/// var ran = await leases.RunExclusiveAsync("retention", owner, TimeSpan.FromMinutes(5), async ct => { … }, ct);
/// </code>
/// <list type="bullet">
/// <item>Atomic on SQLite and PostgreSQL without dialect: taking over is one UPDATE … WHERE Name = @n AND (Owner = @me OR
/// ExpiresAtUtc &lt; @now), which the database runs under its row (PostgreSQL) or file (SQLite) lock, so of two
/// instances racing for an expired lease one updates the row and the other's UPDATE, re-checked, finds it taken. A lease
/// nobody has held yet is an INSERT that the primary key lets through once (<see cref="UniqueViolation"/> for the loser).</item>
/// <item>A crashed holder's lease returns when it expires: choose the duration longer than any pause of a live holder
/// between renewals (GC, a slow disk), and renew every third of it.</item>
/// <item>Expiry is on the lease clock (<see cref="IBulkSql.LeaseClockAsync"/>): the database server's on PostgreSQL, so
/// the hosts' clocks need not agree; the app's TimeProvider on SQLite (one host; tests move it).</item>
/// <item>A process that holds its instance id may take over what an earlier run of that instance left
/// (<c>earlierRunsPrefix</c>, <see cref="InstanceIdentity.EarlierRunsPrefix"/>) at once, as the outbox does, provided it
/// keeps its own attempts apart itself (one owner per process and name, as <c>Campaigns.FanOutGate</c> does).</item>
/// <item>Releasing only ends the exclusion: the next TryAcquireAsync succeeds at once. A job that must run once per
/// schedule slot (not once per instance) records its runs and checks, under the lease, whether the slot's run is done
/// (see <c>Subscribers.RetentionService.RunScheduledAsync</c>).</item>
/// </list>
/// Each call uses its own short-lived DbContext, so it never saves a caller's pending changes.
/// </summary>
public sealed class JobLeases(IServiceScopeFactory scopes, IBulkSql bulk, TimeProvider clock, ILogger<JobLeases> logger)
{
    /// <summary>
    /// True when <paramref name="owner"/> now holds the lease until now + <paramref name="duration"/> (also when it held it
    /// already, or when its holder's owner starts with <paramref name="earlierRunsPrefix"/>).
    /// </summary>
    public async Task<bool> TryAcquireAsync(string name, string owner, TimeSpan duration, CancellationToken ct = default, string? earlierRunsPrefix = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = await bulk.LeaseClockAsync(db, ct);
        var until = now + duration;
        var taken = await db.JobLeases.Where(l => l.Name == name
                && (l.Owner == owner || l.ExpiresAtUtc < now || (earlierRunsPrefix != null && l.Owner.StartsWith(earlierRunsPrefix))))
            .ExecuteUpdateAsync(u => u.SetProperty(l => l.Owner, owner).SetProperty(l => l.ExpiresAtUtc, until), ct);
        if (taken == 1) return true;
        db.JobLeases.Add(new JobLease { Name = name, Owner = owner, ExpiresAtUtc = until });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (UniqueViolation.Is(ex))
        {
            return false; // the row exists and is another owner's, unexpired (or was inserted a moment ago)
        }
    }

    /// <summary>Moves the expiry to now + <paramref name="duration"/>; false when <paramref name="owner"/> no longer holds the lease.</summary>
    public async Task<bool> RenewAsync(string name, string owner, TimeSpan duration, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var until = await bulk.LeaseClockAsync(db, ct) + duration;
        return await db.JobLeases.Where(l => l.Name == name && l.Owner == owner)
            .ExecuteUpdateAsync(u => u.SetProperty(l => l.ExpiresAtUtc, until), ct) == 1;
    }

    /// <summary>Gives the lease up, if <paramref name="owner"/> still holds it.</summary>
    public async Task ReleaseAsync(string name, string owner)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AppDbContext>().JobLeases.Where(l => l.Name == name && l.Owner == owner)
            .ExecuteDeleteAsync(CancellationToken.None);
    }

    /// <summary>
    /// Runs <paramref name="work"/> while holding the lease: false (nothing run) when another owner holds it. The lease is
    /// renewed every third of <paramref name="duration"/>; when it is lost (a renewal finds another owner, or none
    /// succeeded for a whole duration) the work's token is cancelled. Released afterwards, also when the work throws.
    /// </summary>
    public async Task<bool> RunExclusiveAsync(string name, string owner, TimeSpan duration, Func<CancellationToken, Task> work,
        CancellationToken ct = default, string? earlierRunsPrefix = null)
    {
        if (!await TryAcquireAsync(name, owner, duration, ct, earlierRunsPrefix)) return false;
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var done = new CancellationTokenSource();
        var renewing = RenewUntilAsync(name, owner, duration, lost, done.Token);
        try
        {
            await work(lost.Token);
        }
        finally
        {
            await done.CancelAsync();
            await renewing;
            try { await ReleaseAsync(name, owner); }
            catch (Exception ex) { logger.LogWarning(ex, "Could not release the lease {Lease}; it returns when it expires", name); }
        }
        return true;
    }

    private async Task RenewUntilAsync(string name, string owner, TimeSpan duration, CancellationTokenSource lost, CancellationToken done)
    {
        var renewedUtc = clock.GetUtcNow().UtcDateTime;
        using var timer = new PeriodicTimer(duration / 3, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(done))
            {
                try
                {
                    if (await RenewAsync(name, owner, duration, done))
                    {
                        renewedUtc = clock.GetUtcNow().UtcDateTime;
                        continue;
                    }
                    logger.LogWarning("The lease {Lease} was taken over by another instance; stopping its work", name);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (clock.GetUtcNow().UtcDateTime - renewedUtc < duration)
                    {
                        logger.LogWarning(ex, "Could not renew the lease {Lease}; trying again", name);
                        continue;
                    }
                    logger.LogError(ex, "The lease {Lease} could not be renewed before it expired; stopping its work", name);
                }
                await lost.CancelAsync();
                return;
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
        }
    }
}
