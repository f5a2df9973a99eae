using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests.Api;

/// <summary>Api:RequestsPerMinute per key, on each database the way the sign-up limits count (in the database on PostgreSQL).</summary>
public sealed class ApiRateLimitTests
{
    [ProviderTheory, DatabaseProviders]
    public async Task A_key_over_its_requests_per_minute_gets_429_with_Retry_After_and_other_keys_go_on(DatabaseProvider database)
    {
        var clock = new SettableClock();
        await using var app = new AppFactory(settings: new() { ["Api:RequestsPerMinute"] = "3" }, provider: database)
        {
            TestServices = s => s.AddSingleton<TimeProvider>(clock),
        };
        await app.NewsletterAsync();
        // The database's windows start on the minute: begin just after one, so the four requests share it.
        var now = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(60 - now.Second) - TimeSpan.FromMilliseconds(now.Millisecond) + TimeSpan.FromMilliseconds(200));
        var busy = app.ApiClient(await app.ApiKeyAsync("busy"));
        const string url = "/api/v1/newsletters/eilmeldungen/statistics";

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync(url)).StatusCode);
        var refused = await busy.GetAsync(url);

        var problem = await refused.ProblemAsync(429, "rate-limited");
        Assert.Contains("more than 3 requests", problem.GetProperty("detail").GetString());
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient(await app.ApiKeyAsync("calm")).GetAsync(url)).StatusCode);
        if (database == DatabaseProvider.Postgres)
            Assert.Contains(await app.WithDbAsync(db => db.RateWindows.Select(w => w.Key).ToListAsync()), k => k.StartsWith("api:"));
    }

    [PostgresFact]
    public async Task Two_instances_share_one_count_per_key()
    {
        var settings = new Dictionary<string, string?> { ["Api:RequestsPerMinute"] = "3" };
        await using var first = new AppFactory(settings: settings, provider: DatabaseProvider.Postgres);
        await using var second = new AppFactory(settings: settings, reuse: first, ownDataFolder: true);
        await first.NewsletterAsync();
        var key = await first.ApiKeyAsync("shared");
        HttpClient[] instances = [first.ApiClient(key), second.ApiClient(key)];
        const string url = "/api/v1/newsletters/eilmeldungen/statistics";
        // Start just after a minute begins, so that all four requests fall into one window.
        while (DateTime.UtcNow.Second > 50) await Task.Delay(500);

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++) answers.Add((await instances[i % 2].GetAsync(url)).StatusCode);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers);
    }
}
