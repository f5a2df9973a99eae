using System.Diagnostics;
using System.Security.Cryptography;
using MailKit;
using MailKit.Search;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Bench;

/// <summary>
/// Issue 16.5: N mixed reports (hard and soft DSNs, ARF complaints, auto-replies, unsubscribe mails, questions) in a real
/// Dovecot, read by the app's <see cref="MailboxReader"/> until the inbox is empty (fetch, process on a SQLite file, move),
/// compared with a raw run in the same process: the same IMAP fetch and move of the same number of mails, without processing.
/// </summary>
public static class BounceBenchmark
{
    private const int MoveBatch = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        if (TestDovecot.MissingReason is { } missing)
        {
            Console.Error.WriteLine(missing);
            return 1;
        }
        await using var dovecot = await TestDovecot.StartAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        try
        {
            Console.WriteLine($"bounces: {count:N0} mixed reports in Dovecot 2.3 on loopback, {Environment.ProcessorCount} CPU(s), " +
                              $"GC {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")}");

            // Warm-up, so neither side pays for JIT compilation: a few hundred through each.
            await AppendAsync(dovecot, 0, 300);
            await RawAsync(dovecot);
            var app = BuildApp(dataDirectory, dovecot);
            await app.MigrateDatabaseAsync();
            await AppendAsync(dovecot, 1_000_000, 300);
            await ReadAllAsync(app, dovecot, CancellationToken.None, sample: null);

            var appending = Stopwatch.StartNew();
            await AppendAsync(dovecot, 2_000_000, count);
            Console.WriteLine($"appended:      {count:N0} mails in {appending.Elapsed.TotalSeconds:N1} s (set-up, not measured)");
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            long rawPeakHeap = 0;
            using var rawSampler = new Timer(_ => rawPeakHeap = Math.Max(rawPeakHeap, GC.GetGCMemoryInfo().HeapSizeBytes / 1024 / 1024), null, 0, 100);
            var raw = Stopwatch.StartNew();
            var moved = await RawAsync(dovecot);
            raw.Stop();
            var rawRate = moved / raw.Elapsed.TotalSeconds;
            Console.WriteLine($"raw IMAP:      {rawRate,8:N0} mails/s  ({moved:N0} fetched and moved in {raw.Elapsed.TotalSeconds:N1} s, no processing; GC heap at most {rawPeakHeap:N0} MB)");

            await AppendAsync(dovecot, 3_000_000, count);
            var before = await app.Services.CreateAsyncScope().ServiceProvider.GetRequiredService<AppDbContext>().MailboxMails.CountAsync();
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            SendBenchmark.ResetPeakMemory();
            var baseline = SendBenchmark.ProcStatusMb("VmRSS:");
            long peakHeap = 0, peakCommitted = 0;
            var reader = Stopwatch.StartNew();
            await ReadAllAsync(app, dovecot, CancellationToken.None, sample: () =>
            {
                var gc = GC.GetGCMemoryInfo();
                peakHeap = Math.Max(peakHeap, gc.HeapSizeBytes / 1024 / 1024);
                peakCommitted = Math.Max(peakCommitted, gc.TotalCommittedBytes / 1024 / 1024);
            });
            reader.Stop();
            var liveAfter = GC.GetTotalMemory(forceFullCollection: true) / 1024 / 1024;
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var processed = await db.MailboxMails.CountAsync() - before;
            var rate = processed / reader.Elapsed.TotalSeconds;
            var kinds = await db.MailboxMails.GroupBy(m => m.Kind).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
            Console.WriteLine($"mailbox reader:{rate,8:N0} reports/s  ({processed:N0} processed and filed in {reader.Elapsed.TotalSeconds:N1} s; target >= 200/s)");
            Console.WriteLine($"ratio:         {rate / rawRate:P0} of raw IMAP fetch and move");
            Console.WriteLine($"peak memory:   {SendBenchmark.ProcStatusMb("VmHWM:"):N0} MB process working set (VmHWM) while reading; {baseline:N0} MB just before; " +
                              $"GC heap at most {peakHeap:N0} MB, {peakCommitted:N0} MB committed (sampled every 100 ms), {liveAfter:N0} MB live after a full collection at the end; Dovecot is a process of its own");
            Console.WriteLine($"recorded:      {string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{MailboxFolders.NameOf(k.Key)} {k.Count:N0}"))} (all runs; the classifier decides the kinds)");
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Runs the app's reader (started by hand, as the host is never started) until the inbox is empty.</summary>
    private static async Task ReadAllAsync(WebApplication app, TestDovecot dovecot, CancellationToken ct, Action? sample)
    {
        var reader = app.Services.GetServices<IHostedService>().OfType<MailboxReader>().Single();
        await reader.StartAsync(ct);
        using var client = await dovecot.ConnectAsync();
        while (true)
        {
            await client.Inbox.StatusAsync(StatusItems.Count, ct);
            if (client.Inbox.Count == 0) break;
            for (var i = 0; i < 5; i++)
            {
                sample?.Invoke();
                await Task.Delay(100, ct);
            }
        }
        await reader.StopAsync(ct);
    }

    /// <summary>The yardstick: every mail fetched (BODY.PEEK[]) and moved in groups, as the reader does, but nothing processed.</summary>
    private static async Task<int> RawAsync(TestDovecot dovecot)
    {
        using var client = await dovecot.ConnectAsync();
        var target = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Raw" + Guid.NewGuid().ToString("N")[..8], true);
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
        var uids = await client.Inbox.SearchAsync(SearchQuery.All);
        var pending = new List<UniqueId>();
        long bytes = 0;
        foreach (var uid in uids)
        {
            await using (var stream = await client.Inbox.GetStreamAsync(uid))
            {
                var raw = new byte[stream.Length];
                await stream.ReadExactlyAsync(raw);
                bytes += raw.Length;
            }
            pending.Add(uid);
            if (pending.Count == MoveBatch)
            {
                await client.Inbox.MoveToAsync(pending, target!);
                pending.Clear();
            }
        }
        if (pending.Count > 0) await client.Inbox.MoveToAsync(pending, target!);
        await client.DisconnectAsync(true);
        return uids.Count;
    }

    /// <summary>Six kinds in turn, each mail unique (numbered from <paramref name="first"/>), as the mix a real bounce mailbox gets.</summary>
    private static Task AppendAsync(TestDovecot dovecot, int first, int count) =>
        dovecot.AppendAsync(Enumerable.Range(first, count).Select(n =>
        {
            var mail = (n % 6) switch
            {
                0 => BounceMails.HardBounce(n),
                1 => BounceMails.SoftBounce(n),
                2 => BounceMails.Complaint(n),
                3 => BounceMails.AutoReply(n),
                4 => BounceMails.Unsubscribe(n, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')),
                _ => BounceMails.Question(n),
            };
            return System.Text.Encoding.UTF8.GetBytes(mail.ReplaceLineEndings("\r\n"));
        }));

    private static WebApplication BuildApp(string dataDirectory, TestDovecot dovecot)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", Args = [] });
        var settings = new Dictionary<string, string?>
        {
            ["App:PublicBaseUrl"] = "https://news.example.test",
            ["App:DataDirectory"] = dataDirectory,
            ["App:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "bench.db")}",
            ["Smtp:PickupDirectory"] = Path.Combine(dataDirectory, "pickup"),
            ["Privacy:MailProvider"] = "Bench Mail GmbH", // Production names the processor (C40)
            ["Sending:UnsubscribeMailbox"] = $"abmelden@{BounceMails.Domain}",
        };
        foreach (var (key, value) in dovecot.Settings()) settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddValidatedOptions();
        builder.AddStorage();
        builder.AddStaffIdentity();
        builder.AddNewsletterFeatures();
        builder.AddWebFrontEnd();
        return builder.Build();
    }
}
