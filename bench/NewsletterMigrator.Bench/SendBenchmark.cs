using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Bench;

/// <summary>
/// A campaign to N confirmed readers through the real outbox worker (SQLite file, leases, batched
/// results, rate limiter) into an in-process SMTP server that only counts, compared with raw MailKit
/// sending the same messages (built by the same MessageFactory) over the same number of connections.
/// With <c>--postgres</c> the outbox is on a new PostgreSQL database; with <c>--instances N</c> as well, N app instances (each
/// its own data folder, so its own instance id and leases) share it and the connections, as N hosts behind a load balancer.
/// </summary>
public static class SendBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (BenchOptions.Parse(args) is not ({ } positional, var postgres, var instances)) return 2;
        var recipients = positional.Length > 0 ? int.Parse(positional[0]) : 100_000;
        var connections = positional.Length > 1 ? int.Parse(positional[1]) : 4;
        // Raw MailKit is the yardstick for the rate; past 100,000 messages it adds minutes, not accuracy.
        var rawCount = positional.Length > 2 ? int.Parse(positional[2]) : Math.Min(recipients, 100_000);
        if (instances > 1 && postgres is null)
        {
            Console.Error.WriteLine("--instances needs --postgres: several instances share one PostgreSQL database.");
            return 2;
        }
        if (connections % instances != 0)
        {
            // Otherwise the outbox would send over a different total than raw MailKit, and the ratio would compare unlike things.
            Console.Error.WriteLine($"connections ({connections}) must be a multiple of --instances ({instances}), so the total equals raw MailKit's.");
            return 2;
        }
        var dataDirectory = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        // One server, one port per instance: the count per port is what each instance sent.
        await using var smtp = new CountingSmtpServer(endpoints: instances);
        await using var database = postgres is null ? null : await BenchPostgres.CreateAsync(postgres);
        var apps = new List<WebApplication>();
        try
        {
            // The instances must share the master key, as hosts of one installation do (start-up checks it against the database).
            var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            for (var i = 0; i < instances; i++)
                apps.Add(BuildApp(i == 0 ? dataDirectory : Path.Combine(dataDirectory, $"instance-{i + 1}"), smtp.Ports[i], connections / instances,
                    database?.ConnectionString, masterKey));
            var app = apps[0];
            // The host is never started, so the app's memory housekeeping is started by hand, as the app runs it from start-up.
            // One is enough: malloc_trim works on the whole process, where every instance of this run lives.
            var trimmer = app.Services.GetServices<IHostedService>().OfType<NativeHeapTrimmer>().Single();
            await trimmer.StartAsync(CancellationToken.None);
            foreach (var instance in apps) await instance.MigrateDatabaseAsync();
            var seeding = Stopwatch.StartNew();
            var (newsletter, campaignId) = await SeedAsync(app, recipients);
            Console.WriteLine($"send: {recipients:N0} confirmed recipients (seeded in {seeding.Elapsed.TotalSeconds:N0} s), {connections} connection(s), {Environment.ProcessorCount} CPU(s), " +
                              $"GC {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")}, gen0 budget <= {Convert.ToInt64(GC.GetConfigurationVariables()["GCGen0MaxBudget"]) / 1024 / 1024} MB");
            Console.WriteLine(database is null
                ? "database:      SQLite (a file in the data folder)"
                : $"database:      PostgreSQL ({database.Name}, new for this run); {instances} app instance(s) in this process, {connections / instances} connection(s) each");

            // Warm-up, so neither side pays for JIT compilation.
            await RawAsync(app, smtp, newsletter, campaignId, Math.Min(2_000, recipients), connections);

            var rawStart = smtp.Count;
            var raw = Stopwatch.StartNew();
            await RawAsync(app, smtp, newsletter, campaignId, rawCount, connections);
            raw.Stop();
            var rawRate = (smtp.Count - rawStart) / raw.Elapsed.TotalSeconds;
            Console.WriteLine($"raw MailKit:   {rawRate,10:N0} msg/s  ({rawCount:N0} messages in {raw.Elapsed.TotalSeconds:N1} s)");

            // The campaign phase starts from a collected heap; the kernel's peak counter (VmHWM) is reset
            // here, so the peak below is the whole process during fan-out and sending, nothing earlier.
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            ResetPeakMemory();
            var baseline = ProcStatusMb("VmRSS:");
            var engineStart = smtp.Count;
            var total = Stopwatch.StartNew();
            var batches = 0;
            var longestBatch = TimeSpan.Zero;
            var lastBatch = TimeSpan.Zero;
            int queued;
            await using (var scope = app.Services.CreateAsyncScope())
                queued = await scope.ServiceProvider.GetRequiredService<CampaignService>().StartAsync(newsletter.Id, campaignId, "bench", _ =>
                {
                    // Called after each committed batch except the last: the time since the previous one is one batch.
                    batches++;
                    var now = total.Elapsed;
                    if (batches > 1 && now - lastBatch > longestBatch) longestBatch = now - lastBatch;
                    lastBatch = now;
                    return Task.CompletedTask;
                }, CancellationToken.None);
            var fanOut = total.Elapsed;
            Console.WriteLine($"fan-out:       {queued:N0} outbox rows in {fanOut.TotalSeconds:N2} s ({queued / fanOut.TotalSeconds:N0} rows/s; {batches + 1:N0} transactions, longest {longestBatch.TotalMilliseconds:N0} ms)");

            var workers = apps.Select(a => a.Services.GetServices<IHostedService>().OfType<DeliveryWorker>().Single()).ToList();
            var startedAt = Enumerable.Range(0, instances).Select(smtp.CountAt).ToArray();
            using var stop = new CancellationTokenSource();
            var engine = Stopwatch.StartNew();
            long peakCommitted = 0, peakAnon = 0, peakFile = 0, peakShmem = 0, peakMallocHeld = 0, peakMallocUsed = 0;
            foreach (var worker in workers) await worker.StartAsync(stop.Token);
            // The rate over each tenth of the campaign shows whether sending slows down as the outbox fills with sent rows.
            var tenth = Math.Max(1, queued / 10);
            var (windowSent, windowStart) = (0L, TimeSpan.Zero);
            while (smtp.Count - engineStart < queued)
            {
                await Task.Delay(100);
                var sent = smtp.Count - engineStart;
                if (sent - windowSent >= tenth && sent < queued)
                {
                    Console.WriteLine($"               {sent,9:N0} sent: {(sent - windowSent) / (engine.Elapsed - windowStart).TotalSeconds,6:N0} msg/s since {windowSent:N0}");
                    (windowSent, windowStart) = (sent, engine.Elapsed);
                }
                peakCommitted = Math.Max(peakCommitted, GC.GetGCMemoryInfo().TotalCommittedBytes / 1024 / 1024);
                peakAnon = Math.Max(peakAnon, ProcStatusMb("RssAnon:"));
                peakFile = Math.Max(peakFile, ProcStatusMb("RssFile:"));
                peakShmem = Math.Max(peakShmem, ProcStatusMb("RssShmem:"));
                var (mallocUsed, mallocHeld) = MallocMb();
                peakMallocUsed = Math.Max(peakMallocUsed, mallocUsed);
                peakMallocHeld = Math.Max(peakMallocHeld, mallocHeld);
            }
            engine.Stop();
            foreach (var worker in workers) await worker.StopAsync(CancellationToken.None);
            await trimmer.StopAsync(CancellationToken.None);
            var engineRate = queued / engine.Elapsed.TotalSeconds;
            var peak = ProcStatusMb("VmHWM:");

            Console.WriteLine($"outbox worker: {engineRate,10:N0} msg/s  ({queued:N0} messages in {engine.Elapsed.TotalSeconds:N1} s)");
            if (instances > 1)
                Console.WriteLine("per instance:  " + string.Join(", ", Enumerable.Range(0, instances).Select(i => $"instance {i + 1} sent {smtp.CountAt(i) - startedAt[i]:N0}")));
            Console.WriteLine($"ratio:         {engineRate / rawRate:P0} of raw MailKit (target >= 80 %: {(engineRate >= 0.8 * rawRate ? "met" : "MISSED")})");
            Console.WriteLine($"peak memory:   {peak:N0} MB process working set (VmHWM) during fan-out and sending (target < 200 MB); {baseline:N0} MB just before the campaign started" +
                              (instances > 1 ? $" (all {instances} instances are in this process)" : "") + (database is null ? "" : "; the PostgreSQL server's memory is its own processes'"));
            Console.WriteLine($"               largest parts, sampled every 100 ms: {peakCommitted:N0} MB GC heap committed, {peakAnon:N0} MB anonymous (GC heap, SQLite, stacks), " +
                              $"{peakFile:N0} MB mapped files (runtime, assemblies), {peakShmem:N0} MB shared (JIT code); the counting SMTP server runs in this process too");
            Console.WriteLine($"               native heap (glibc malloc, part of anonymous): at most {peakMallocUsed:N0} MB in use within {peakMallocHeld:N0} MB of arenas, whose free pages go back to the system every {NativeHeapTrimmer.Period.TotalSeconds:N0} s");

            // What the report page's live progress bar costs the server on every poll, at this campaign size.
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var progress = scope.ServiceProvider.GetRequiredService<CampaignProgress>();
                await progress.GetAsync(newsletter.Id, campaignId);
                var poll = Stopwatch.StartNew();
                const int polls = 5;
                for (var i = 0; i < polls; i++) await progress.GetAsync(newsletter.Id, campaignId);
                Console.WriteLine($"progress poll: {poll.Elapsed.TotalMilliseconds / polls:N0} ms for a campaign of {queued:N0} rows");
            }
            return 0;
        }
        finally
        {
            foreach (var app in apps) await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The app on a SQLite file in <paramref name="dataDirectory"/>, or on the PostgreSQL database <paramref name="postgres"/>.</summary>
    internal static WebApplication BuildApp(string dataDirectory, int port, int connections, string? postgres = null, string? masterKey = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["App:PublicBaseUrl"] = "https://news.example.test",
            ["App:DataDirectory"] = dataDirectory,
            ["App:MasterKey"] = masterKey ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Database:Provider"] = postgres is null ? nameof(DatabaseProvider.Sqlite) : nameof(DatabaseProvider.Postgres),
            ["Database:ConnectionString"] = postgres ?? $"Data Source={Path.Combine(dataDirectory, "bench.db")}",
            ["Smtp:Host"] = "127.0.0.1",
            ["Privacy:MailProvider"] = "Bench Mail GmbH", // Production names the processor (C40)
            ["Smtp:Port"] = port.ToString(),
            ["Smtp:Security"] = "None",
            ["Smtp:MaxConnections"] = connections.ToString(),
            ["Smtp:MessagesPerSecond"] = "10000",
            ["Sending:BatchSize"] = "500",
            ["Sending:PollInterval"] = "00:00:00.050",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Npgsql's EF provider reads the migrations history before it knows the table exists and logs the expected failure
        // on a new database as an error (npgsql/efcore.pg#3407); a real command failure still ends the run with its exception.
        if (postgres is not null) builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None);
        builder.AddValidatedOptions();
        builder.AddStorage();
        builder.AddStaffIdentity();
        builder.AddNewsletterFeatures();
        builder.AddWebFrontEnd(); // localisation of the mail texts; the host itself is never started
        return builder.Build();
    }

    private static async Task<(Newsletter Newsletter, int CampaignId)> SeedAsync(WebApplication app, int recipients)
    {
        Newsletter newsletter;
        int campaignId;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
            {
                Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@news.example.test",
                Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt",
                // A campaign starts only under a complete legal identity (C38).
                ControllerName = "Tagblatt GmbH", ControllerAddress = "Musterstraße 1, 12345 Musterstadt", ControllerEmail = "datenschutz@news.example.test",
                PrivacyNoticeUrl = "https://news.example.test/datenschutz", PrivacyNoticeVersion = "2026-11",
            }, "bench");
            campaignId = (await scope.ServiceProvider.GetRequiredService<CampaignService>().SaveDraftAsync(newsletter.Id, null,
                "Eilmeldung: Brücke gesperrt", "Was Sie heute wissen müssen",
                string.Join("\n\n", Enumerable.Repeat("Die **Brücke** ist wegen Bauarbeiten gesperrt. Mehr auf [tagblatt.example.test](https://tagblatt.example.test/artikel).", 12)),
                "bench"))!.Value;
        }
        // Confirmed readers written in bulk: set-up, not measured.
        var now = DateTime.UtcNow;
        for (var start = 0; start < recipients; start += 20_000)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = start; i < Math.Min(recipients, start + 20_000); i++)
            {
                var email = $"leser{i:D7}@example.test";
                db.Subscribers.Add(new Subscriber
                {
                    Id = Guid.CreateVersion7(), NewsletterId = newsletter.Id, Email = email, EmailKey = email, Language = "de",
                    Status = SubscriberStatus.Confirmed, UnsubscribeTokenHash = RandomNumberGenerator.GetBytes(32),
                    CreatedAtUtc = now, ConfirmedAtUtc = now,
                });
            }
            await db.SaveChangesAsync();
        }
        return (newsletter, campaignId);
    }

    /// <summary>The baseline: the same messages from the same factory, sent by MailKit alone, no database.</summary>
    private static async Task RawAsync(WebApplication app, CountingSmtpServer smtp, Newsletter newsletter, int campaignId, int count, int connections)
    {
        var messages = app.Services.GetRequiredService<MessageFactory>();
        Campaign campaign;
        await using (var scope = app.Services.CreateAsyncScope())
            campaign = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Campaigns.AsNoTracking().SingleAsync(c => c.Id == campaignId);
        // The body as the start fixes it (not saved): the factory then builds and inlines the frame once, as for the
        // worker's started campaign, instead of once per mail as for a draft's test mail.
        campaign.BodyHtml ??= MarkdownRenderer.ToHtml(campaign.BodyMarkdown);
        var host = "news.example.test";
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            using var client = new SmtpClient();
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (!client.IsConnected)
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync("127.0.0.1", smtp.Port);
                    await client.ConnectAsync(socket, "127.0.0.1", smtp.Port, SecureSocketOptions.None);
                }
                var email = $"leser{i:D7}@example.test";
                var row = new OutboundMessage
                {
                    Kind = MessageKind.Campaign, NewsletterId = newsletter.Id, CampaignId = campaignId, ToAddress = email, Language = "de",
                    MessageId = MessageIds.New(host),
                };
                var subscriber = new Subscriber
                {
                    Id = Guid.CreateVersion7(), NewsletterId = newsletter.Id, Email = email, EmailKey = email, Language = "de",
                    Status = SubscriberStatus.Confirmed, UnsubscribeTokenHash = [],
                };
                await client.SendAsync(messages.Newsletter(row, newsletter, campaign, subscriber));
            }
            await client.DisconnectAsync(true);
        }));
    }

    // Linux: writing 5 to clear_refs resets VmHWM, so the peak covers the campaign alone.
    internal static void ResetPeakMemory()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo();

    /// <summary>glibc's own account of its heap: bytes in use, and bytes taken from the system (in use, free, or mapped).</summary>
    private static (long UsedMb, long HeldMb) MallocMb()
    {
        try
        {
            var info = MallInfo();
            return ((long)(info.Uordblks + info.Hblkhd) / 1024 / 1024, (long)(info.Arena + info.Hblkhd) / 1024 / 1024);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { return (0, 0); }
    }

    internal static long ProcStatusMb(string field)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            if (line is not null) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024;
    }
}
