using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The sign-up service on a real SQLite file (issue 13, points 4 and C30), without the page's minimum answer
/// time: how long the work itself takes for a new, a pending and a confirmed address, and what a burst of
/// simultaneous sign-ups for one address costs now that they queue for the address's lock.
/// </summary>
public static class SignUpBenchmark
{
    private const int Readers = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0]) : 300;
        var bursts = args.Length > 1 ? int.Parse(args[1]) : 50;
        var dataDirectory = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        await using var smtp = new CountingSmtpServer();
        try
        {
            // The delivery worker is never started: the DOI mails stay queued, as they would for the length of a request.
            var app = SendBenchmark.BuildApp(dataDirectory, smtp.Port, 1);
            await app.MigrateDatabaseAsync();
            var (newsletter, text) = await SeedAsync(app);
            Console.WriteLine($"sign-up: {rounds} rounds of (new, pending, confirmed), {bursts} bursts of {Readers}, {Environment.ProcessorCount} CPU(s), minimum answer time of the page not applied");

            // Pending and confirmed addresses signed up once beforehand (set-up, not measured).
            for (var i = 0; i < rounds + 20; i++)
            {
                await SignUpAsync(app, newsletter, text, $"pending{i:D5}@example.test");
                await SignUpAsync(app, newsletter, text, $"confirmed{i:D5}@example.test");
            }
            await using (var scope = app.Services.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<AppDbContext>().Subscribers.Where(s => s.EmailKey.StartsWith("confirmed"))
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriberStatus.Confirmed));

            var times = new Dictionary<string, List<double>> { ["new"] = [], ["pending"] = [], ["confirmed"] = [] };
            for (var i = 0; i < rounds + 20; i++)
            {
                // Interleaved, so a slow moment of the machine touches all three alike; the first 20 rounds warm up.
                foreach (var kind in times.Keys)
                {
                    var started = Stopwatch.GetTimestamp();
                    await SignUpAsync(app, newsletter, text, $"{kind}{i:D5}@example.test");
                    if (i >= 20) times[kind].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
            foreach (var (kind, list) in times)
                Console.WriteLine($"  {kind,-10} median {Percentiles.Of(list, 0.5),6:N2} ms   p90 {Percentiles.Of(list, 0.9),6:N2} ms   max {list.Max(),6:N2} ms");

            var walls = new List<double>();
            var latencies = new List<double>();
            var accepted = new List<int>();
            for (var b = 0; b < bursts; b++)
            {
                var email = $"burst{b:D5}@example.test";
                var started = Stopwatch.GetTimestamp();
                var results = await Task.WhenAll(Enumerable.Range(0, Readers).Select(_ => Task.Run(async () =>
                {
                    var own = Stopwatch.GetTimestamp();
                    var outcome = await SignUpAsync(app, newsletter, text, email);
                    return (outcome, Stopwatch.GetElapsedTime(own).TotalMilliseconds);
                })));
                walls.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                latencies.AddRange(results.Select(r => r.Item2));
                accepted.Add(results.Count(r => r.outcome == SignUpOutcome.Accepted));
            }
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                var rows = await db.Subscribers.CountAsync(s => s.EmailKey.StartsWith("burst"));
                var dois = await db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.DoiQueued
                    && db.Subscribers.Any(s => s.Id == e.SubscriberId && s.EmailKey.StartsWith("burst")));
                Console.WriteLine($"  bursts:    wall median {Percentiles.Of(walls, 0.5),6:N1} ms  max {walls.Max(),6:N1} ms; one sign-up in a burst median {Percentiles.Of(latencies, 0.5),6:N1} ms  p90 {Percentiles.Of(latencies, 0.9),6:N1} ms  max {latencies.Max(),6:N1} ms");
                Console.WriteLine($"             accepted per burst {accepted.Min()}..{accepted.Max()} (limit 5), {rows} subscriber rows for {bursts} addresses, {dois} DOI mails queued");
            }
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<SignUpOutcome> SignUpAsync(WebApplication app, Newsletter newsletter, ConsentText text, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SignUpService>().SignUpAsync(
            new SignUpRequest(newsletter, text, email, "de", null, "127.0.0.1", "bench", "general") { AgeConfirmed = true });
    }

    private static async Task<(Newsletter, ConsentText)> SeedAsync(WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@news.example.test",
            Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt",
            ControllerName = "Tagblatt GmbH", ControllerAddress = "Musterstraße 1, 12345 Musterstadt", ControllerEmail = "datenschutz@news.example.test",
            PrivacyNoticeUrl = "https://news.example.test/datenschutz", PrivacyNoticeVersion = "2026-11",
        }, "bench");
        if (!LegalReadiness.IsOpen(newsletter)) throw new InvalidOperationException("The bench newsletter is not open for sign-ups.");
        var text = await scope.ServiceProvider.GetRequiredService<ConsentTextService>().ShowToReaderAsync(newsletter, "de")
                   ?? throw new InvalidOperationException("No consent text.");
        return (newsletter, text);
    }
}
