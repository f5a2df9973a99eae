using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>The database lease behind "run once across instances" (issue 18), on a real SQLite file.</summary>
public sealed class JobLeasesTests : IAsyncLifetime
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private readonly SettableClock _clock = new();
    private AppFactory _app = null!;
    private JobLeases _leases = null!;

    public Task InitializeAsync()
    {
        // SQLite: its lease clock is the app's TimeProvider, which the tests move; PostgreSQL's is the server's.
        _app = new AppFactory(provider: DatabaseProvider.Sqlite) { TestServices = s => s.AddSingleton<TimeProvider>(_clock) };
        _leases = _app.Service<JobLeases>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task The_first_owner_gets_the_lease_and_a_second_is_refused_until_it_expires_then_takes_it_over()
    {
        Assert.True(await _leases.TryAcquireAsync("job", "a", Minute));
        Assert.True(await _leases.TryAcquireAsync("job", "a", Minute)); // its own lease again
        Assert.False(await _leases.TryAcquireAsync("job", "b", Minute));

        _clock.Advance(Minute - TimeSpan.FromSeconds(1));
        Assert.False(await _leases.TryAcquireAsync("job", "b", Minute));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await _leases.TryAcquireAsync("job", "b", Minute));

        // The old owner has lost it: it can neither renew nor take it back while it is b's.
        Assert.False(await _leases.RenewAsync("job", "a", Minute));
        Assert.False(await _leases.TryAcquireAsync("job", "a", Minute));
        Assert.Equal("b", await _app.WithDbAsync(db => Task.FromResult(db.JobLeases.Single(l => l.Name == "job").Owner)));
    }

    [Fact]
    public async Task A_renewed_lease_outlasts_its_first_expiry_and_a_released_one_is_free_at_once()
    {
        Assert.True(await _leases.TryAcquireAsync("job", "a", Minute));
        _clock.Advance(TimeSpan.FromSeconds(50));
        Assert.True(await _leases.RenewAsync("job", "a", Minute));
        _clock.Advance(TimeSpan.FromSeconds(50)); // 100 s after the first acquisition, 50 s after the renewal
        Assert.False(await _leases.TryAcquireAsync("job", "b", Minute));

        await _leases.ReleaseAsync("job", "b"); // not b's to release
        Assert.False(await _leases.TryAcquireAsync("job", "b", Minute));
        await _leases.ReleaseAsync("job", "a");
        Assert.True(await _leases.TryAcquireAsync("job", "b", Minute));
        Assert.False(await _leases.RenewAsync("job", "a", Minute));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Of_many_owners_racing_for_a_new_lease_and_then_for_an_expired_one_exactly_one_wins_each_time(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var leases = app.Service<JobLeases>();
        for (var round = 0; round < 2; round++)
        {
            var owners = Enumerable.Range(0, 8).Select(i => $"owner-{round}-{i}").ToList();
            var results = await Task.WhenAll(owners.Select(o => Task.Run(() => leases.TryAcquireAsync("race", o, Minute))));
            Assert.Single(results, won => won);
            // Expired in the row itself: no test can move PostgreSQL's clock.
            var past = DateTime.UtcNow.AddHours(-1);
            await app.WithDbAsync(db => db.JobLeases.ExecuteUpdateAsync(u => u.SetProperty(l => l.ExpiresAtUtc, past)));
        }
    }

    [Fact]
    public async Task Run_exclusive_runs_the_work_of_one_owner_and_refuses_another_while_it_runs()
    {
        var inside = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var first = _leases.RunExclusiveAsync("job", "a", Minute, async _ =>
        {
            inside.SetResult();
            await finish.Task;
        });
        await inside.Task;
        var ranSecond = false;
        Assert.False(await _leases.RunExclusiveAsync("job", "b", Minute, _ =>
        {
            ranSecond = true;
            return Task.CompletedTask;
        }));
        Assert.False(ranSecond);
        finish.SetResult();
        Assert.True(await first);
        Assert.True(await _leases.RunExclusiveAsync("job", "b", Minute, _ => Task.CompletedTask)); // released after the work
    }
}
