using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 18: with two instances on one database the daily retention run runs once, not once per instance; a run goes on
/// under a database lease (JobLeases), and a run whose instance died is repeated by another once that lease has expired.
/// </summary>
public sealed class RetentionAcrossInstancesTests
{
    [Fact]
    public async Task Two_instances_reaching_the_daily_time_together_run_the_retention_jobs_once()
    {
        // Both instances' clocks stand shortly before the next Retention:DailyAt, so their workers wake at the same moment.
        var slot = RetentionService.NextRunUtc(DateTime.UtcNow.AddMinutes(1), new RetentionOptions().DailyAtTime());
        var lead = TimeSpan.FromSeconds(12);
        var offset = slot - DateTime.UtcNow - lead;
        var firstClock = new SettableClock();
        var secondClock = new SettableClock();
        firstClock.Advance(offset);
        secondClock.Advance(offset);
        // SQLite: the tests move the app clock, by which its leases expire (PostgreSQL's lease clock is the server's).
        await using var first = new AppFactory(provider: DatabaseProvider.Sqlite) { TestServices = s => s.AddSingleton<TimeProvider>(firstClock) };
        await using var second = new AppFactory(reuse: first) { TestServices = s => s.AddSingleton<TimeProvider>(secondClock) };
        _ = first.Services;
        _ = second.Services;
        Assert.True(firstClock.GetUtcNow().UtcDateTime < slot.AddSeconds(-2), "the instances started too late to race for the slot");

        for (var deadline = DateTime.UtcNow + lead + TimeSpan.FromSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            if (await first.WithDbAsync(db => db.RetentionRuns.AnyAsync(r => r.Trigger == "schedule" && r.FinishedAtUtc != null))) break;
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // time for a second run, if there were one
        var runs = await first.WithDbAsync(db => db.RetentionRuns.Where(r => r.Trigger == "schedule").ToListAsync());
        var run = Assert.Single(runs);
        Assert.True(run.StartedAtUtc >= slot);
        Assert.Null(run.Error);
        Assert.Empty(await first.WithDbAsync(db => db.JobLeases.ToListAsync())); // released
    }

    [Fact]
    public async Task While_another_instance_holds_the_retention_lease_neither_the_schedule_nor_an_admin_starts_a_run()
    {
        await using var app = new AppFactory();
        var leases = app.Service<JobLeases>();
        Assert.True(await leases.TryAcquireAsync(RetentionService.LeaseName, "another-instance/1", TimeSpan.FromHours(1)));
        var slot = DateTime.UtcNow.AddMinutes(-1);

        Assert.Equal(RetentionAttempt.Busy, await ScheduledAsync(app, slot));
        var admin = await app.AdminAsync();
        var page = await admin.GetStringAsync("/admin/privacy/retention");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync("/admin/privacy/retention?handler=Run", page, [])).StatusCode);
        Assert.Contains("Eine Löschrunde läuft gerade", System.Net.WebUtility.HtmlDecode(await admin.GetStringAsync("/admin/privacy/retention")));
        Assert.Equal(0, await app.WithDbAsync(db => db.RetentionRuns.CountAsync()));

        // Once it is free, the slot's run happens, once.
        await leases.ReleaseAsync(RetentionService.LeaseName, "another-instance/1");
        Assert.Equal(RetentionAttempt.Ran, await ScheduledAsync(app, slot));
        Assert.Equal(RetentionAttempt.AlreadyDone, await ScheduledAsync(app, slot));
        Assert.Equal(1, await app.WithDbAsync(db => db.RetentionRuns.CountAsync()));
    }

    [Fact]
    public async Task A_run_whose_instance_died_is_closed_as_interrupted_and_run_again_by_another_once_its_lease_expired()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var slot = DateTime.UtcNow.AddMinutes(-1);
        // The other instance took the lease and began the slot's run, then died.
        Assert.True(await app.Service<JobLeases>().TryAcquireAsync(RetentionService.LeaseName, "a-dead-instance/1", RetentionService.LeaseDuration));
        var dead = await app.WithDbAsync(async db =>
        {
            var run = new RetentionRun { StartedAtUtc = DateTime.UtcNow, Trigger = "schedule" };
            db.RetentionRuns.Add(run);
            await db.SaveChangesAsync();
            return run.Id;
        });

        Assert.Equal(RetentionAttempt.Busy, await ScheduledAsync(app, slot));
        Assert.Null(await app.WithDbAsync(db => db.RetentionRuns.Where(r => r.Id == dead).Select(r => r.FinishedAtUtc).SingleAsync()));

        clock.Advance(RetentionService.LeaseDuration + TimeSpan.FromSeconds(1));
        Assert.Equal(RetentionAttempt.Ran, await ScheduledAsync(app, slot));
        var runs = await app.WithDbAsync(db => db.RetentionRuns.OrderBy(r => r.Id).ToListAsync());
        Assert.Equal(2, runs.Count);
        Assert.Equal(RetentionWorker.InterruptedError, runs[0].Error);
        Assert.Null(runs[1].Error);
    }

    private static async Task<RetentionAttempt> ScheduledAsync(AppFactory app, DateTime slot)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RetentionService>().RunScheduledAsync(slot);
    }
}
