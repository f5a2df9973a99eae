using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Bench;

/// <summary>
/// Issue 14: what the WhatsApp schedule costs for a large queue at a real limit. (a) The pure simulation
/// (<see cref="WhatsAppPacing.LastSendUtc"/>) for the queue after a full day at the limit; (b) the WhatsApp page's whole
/// forecast (<see cref="WhatsAppForecasts.ForAsync"/>) on a real SQLite file holding those rows. Each against a raw
/// baseline in the same process: the least any schedule of the same answer needs (the day's history sorted and one
/// timestamp per queued invitation), and the two reads straight from SQLite (the last 24 hours' acceptances, the queue's count).
/// </summary>
public static class WhatsAppScheduleBench
{
    private const int Limit = 10_000;
    // A Monday morning in winter, weeks from a clock change: the finish date printed is the same on every run.
    private static readonly DateTime Now = Berlin.ToUtc(new DateTime(2026, 12, 7, 10, 0, 0));

    public static async Task RunAsync(int queued, int rounds)
    {
        var options = new WhatsAppOptions { MessagingLimit = Limit };
        var pacing = new WhatsAppPacing(Limit, false, options.Hours(), options.BatchInterval, options.MessagesPerSecond);
        var history = History(pacing, Limit);
        Console.WriteLine($"whatsapp-schedule: {queued:N0} queued, limit {Limit:N0} per moving 24 hours, sending hours {options.Hours()} (Berlin), " +
                          $"batches every {options.BatchInterval.TotalMinutes:0} min of {pacing.BatchSize:N0}, {options.MessagesPerSecond} messages/s; " +
                          $"{Environment.ProcessorCount} CPU(s), {rounds} rounds each, medians");
        Console.WriteLine($"  now {Berlin.Format(Now)}; last 24 hours: {history.Count:N0} accepted, {Berlin.Format(history[0])} to {Berlin.Format(history[^1])}");

        PureSchedule(pacing, history, queued, rounds);
        await ForecastAsync(history, queued, rounds);
    }

    /// <summary>The last 24 hours spent at the same rules: a full day's budget, every acceptance at its own second.</summary>
    private static List<DateTime> History(WhatsAppPacing pacing, int count)
    {
        var history = new List<DateTime>(count);
        var gap = TimeSpan.FromSeconds(1 / pacing.MessagesPerSecond);
        foreach (var batch in pacing.Simulate(Now - TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1), [], count))
            for (var i = 0; i < batch.Count; i++) history.Add(batch.FirstUtc + gap * i);
        if (history.Count != count || history[^1] > Now) throw new InvalidOperationException("The history does not fit into the last 24 hours.");
        return history;
    }

    private static void PureSchedule(WhatsAppPacing pacing, List<DateTime> history, int queued, int rounds)
    {
        for (var i = 0; i < 3; i++) pacing.LastSendUtc(Now, history, queued); // JIT, tiering
        var times = new List<double>();
        var allocated = new List<long>();
        DateTime? last = null;
        for (var r = 0; r < rounds; r++)
        {
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            last = pacing.LastSendUtc(Now, history, queued);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            allocated.Add(GC.GetAllocatedBytesForCurrentThread() - bytes);
        }
        var batches = pacing.Simulate(Now, history, queued).Count();

        var rawTimes = new List<double>();
        long check = 0;
        for (var r = 0; r < rounds + 3; r++)
        {
            var started = Stopwatch.GetTimestamp();
            check ^= RawSchedule(history, queued, pacing.MessagesPerSecond);
            if (r >= 3) rawTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        GC.KeepAlive(check); // the loop's result is used, so the JIT keeps the loop
        var median = Median(times);
        var rawMedian = Median(rawTimes);
        Console.WriteLine($"(a) WhatsAppPacing.LastSendUtc: {median,8:N3} ms per schedule (p90 {Percentiles.Of(times, 0.9):N3}), {Median(allocated) / 1024.0:N0} KB allocated, " +
                          $"{batches:N0} batches simulated");
        Console.WriteLine($"    raw: history sorted + a loop over {queued:N0} timestamps: {rawMedian,8:N3} ms; ratio {median / rawMedian:N1}");
        Console.WriteLine($"    last invitation: {Berlin.Format(last)} (Berlin), {(last - Now)?.TotalDays:N1} days from now");
    }

    /// <summary>
    /// The floor of any schedule: the last day's acceptances filtered and sorted, then one timestamp per queued invitation
    /// at the sending rate, with no limit, no hours and no batches.
    /// </summary>
    private static long RawSchedule(List<DateTime> history, int queued, double perSecond)
    {
        var dayAgo = Now - TimeSpan.FromHours(24);
        var recent = new DateTime[history.Count];
        var n = 0;
        foreach (var t in history)
            if (t > dayAgo && t <= Now) recent[n++] = t;
        Array.Sort(recent, 0, n);
        var step = TimeSpan.FromSeconds(1 / perSecond).Ticks;
        var at = Now.Ticks;
        long sum = n;
        for (var i = 0; i < queued; i++)
        {
            at += step;
            sum ^= at;
        }
        return sum;
    }

    private static async Task ForecastAsync(List<DateTime> history, int queued, int rounds)
    {
        var folder = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        var logSql = Environment.GetEnvironmentVariable("BENCH_SQL") == "1";
        try
        {
            var (app, newsletter) = await ImportBenchmark.CreateAppAsync(folder, "forecast", builder =>
            {
                builder.Configuration["WhatsApp:MessagingLimit"] = Limit.ToString();
                builder.Services.AddSingleton<TimeProvider>(new FixedClock(Now));
                if (logSql) builder.Logging.AddSimpleConsole().AddFilter((category, level) => category == DbLoggerCategory.Database.Command.Name && level >= LogLevel.Information);
            });
            await using var _ = app;
            var file = Path.Combine(folder, "forecast", "bench.db");
            var seed = Stopwatch.StartNew();
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                await db.Newsletters.Where(n => n.Id == newsletter.Id).ExecuteUpdateAsync(u => u.SetProperty(n => n.MigrationEndsAtUtc, Now.AddDays(30)));
                var import = new ImportBatch { NewsletterId = newsletter.Id, FileName = "bench.csv", Status = ImportStatus.Completed };
                db.ImportBatches.Add(import);
                await db.SaveChangesAsync();
                await SeedAsync(file, newsletter.Id, import.Id, queued, history);
            }
            Console.WriteLine($"(b) seeded {queued + history.Count:N0} contacts and WhatsApp messages ({queued:N0} queued, {history.Count:N0} accepted) " +
                              $"in {seed.Elapsed.TotalSeconds:N1} s; {new FileInfo(file).Length / 1048576.0:N0} MB");

            var medians = new List<double>();
            foreach (var (label, end) in new[] { ("migration ends in 30 days", Now.AddDays(30)), ("migration ends in 7 days ", Now.AddDays(7)) })
            {
                await using (var scope = app.Services.CreateAsyncScope())
                    await scope.ServiceProvider.GetRequiredService<AppDbContext>().Newsletters.Where(n => n.Id == newsletter.Id)
                        .ExecuteUpdateAsync(u => u.SetProperty(n => n.MigrationEndsAtUtc, end));
                newsletter.MigrationEndsAtUtc = end;
                var times = new List<double>();
                var allocated = new List<long>();
                WhatsAppForecast? forecast = null;
                for (var r = 0; r < (logSql ? 1 : rounds + 2); r++)
                {
                    var bytes = GC.GetTotalAllocatedBytes(precise: true);
                    var started = Stopwatch.GetTimestamp();
                    // One scope per computation, as one request of the WhatsApp page has.
                    await using (var scope = app.Services.CreateAsyncScope())
                        forecast = await scope.ServiceProvider.GetRequiredService<WhatsAppForecasts>().ForAsync(newsletter);
                    if (r < 2 && !logSql) continue; // warm-up
                    times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    allocated.Add(GC.GetTotalAllocatedBytes(precise: true) - bytes);
                }
                var f = forecast!;
                medians.Add(Median(times));
                Console.WriteLine($"    WhatsAppForecasts.ForAsync, {label}: {Median(times),8:N1} ms per forecast (p90 {Percentiles.Of(times, 0.9):N1}), " +
                                  $"{Median(allocated) / 1048576.0:N1} MB allocated");
                Console.WriteLine($"      limit {f.Limit.Value:N0} ({f.Limit.Source}), sent last 24 h {f.SentLast24h:N0}, queued {f.Queued:N0}; last invitation {Berlin.Format(f.LastSendUtc)} " +
                                  $"({(f.LastSendUtc - Now)?.TotalDays:N1} days); left at the migration end {f.LeftAtMigrationEnd:N0}; " +
                                  string.Join(", ", f.HigherLimits.Select(h => $"at {h.Limit:N0}: {Berlin.Format(h.LastSendUtc)}")));
            }

            var rawTimes = new List<double>();
            for (var r = 0; r < rounds + 2; r++)
            {
                var started = Stopwatch.GetTimestamp();
                var (recent, waiting) = await RawReadsAsync(file);
                if (r >= 2) rawTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (recent != history.Count || waiting != queued) throw new InvalidOperationException($"Raw reads found {recent} and {waiting}.");
            }
            var rawMedian = Median(rawTimes);
            Console.WriteLine($"    raw: the last 24 hours' acceptances read and COUNT(*) of the queue on one connection: {rawMedian,8:N1} ms; " +
                              $"ratio {string.Join(" / ", medians.Select(m => (m / rawMedian).ToString("N1")))}");
            Console.WriteLine($"    peak working set (process) {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MB; " +
                              $"GCs gen0/1/2: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>What the forecast must read at the least, on a plain connection: the acceptances of the last 24 hours and the queue's size.</summary>
    private static async Task<(int Recent, long Waiting)> RawReadsAsync(string file)
    {
        await using var connection = new SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT AcceptedAtUtc FROM WhatsAppMessages WHERE AcceptedAtUtc > $dayAgo";
        command.Parameters.AddWithValue("$dayAgo", Stamp(Now - TimeSpan.FromHours(24)));
        var recent = new List<DateTime>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) recent.Add(reader.GetDateTime(0));
        command.CommandText = $"SELECT COUNT(*) FROM WhatsAppMessages WHERE Status IN ({(int)WhatsAppStatus.Queued}, {(int)WhatsAppStatus.Leased})";
        command.Parameters.Clear();
        var waiting = (long)(await command.ExecuteScalarAsync())!;
        return (recent.Count, waiting);
    }

    /// <summary>The rows as the app would have written them, one prepared INSERT each in one transaction: a contact per message.</summary>
    private static async Task SeedAsync(string file, int newsletterId, int importId, int queued, List<DateTime> accepted)
    {
        await using var connection = new SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var contact = connection.CreateCommand();
        contact.Transaction = transaction;
        contact.CommandText = """
            INSERT INTO Contacts (Id, NewsletterId, ImportBatchId, PhoneHmac, PhoneEncrypted, DisplayName, InviteTokenHash, TokenGeneration, CreatedAtUtc, InvitedAtUtc)
            VALUES ($id, $newsletter, $import, $hmac, $phone, $name, $token, 0, $created, $invited)
            """;
        var contactId = contact.Parameters.Add("$id", SqliteType.Text);
        contact.Parameters.AddWithValue("$newsletter", newsletterId);
        contact.Parameters.AddWithValue("$import", importId);
        var hmac = contact.Parameters.Add("$hmac", SqliteType.Blob);
        var phone = contact.Parameters.Add("$phone", SqliteType.Blob);
        var name = contact.Parameters.Add("$name", SqliteType.Text);
        var token = contact.Parameters.Add("$token", SqliteType.Blob);
        var created = Stamp(Now - TimeSpan.FromDays(2));
        contact.Parameters.AddWithValue("$created", created);
        var invited = contact.Parameters.Add("$invited", SqliteType.Text);

        await using var message = connection.CreateCommand();
        message.Transaction = transaction;
        message.CommandText = """
            INSERT INTO WhatsAppMessages (ContactId, NewsletterId, Status, Attempts, CreatedAtUtc, NextAttemptAtUtc, Wamid, AcceptedAtUtc, DayDeferrals, RequestedBy)
            VALUES ($contact, $newsletter, $status, $attempts, $created, $created, $wamid, $accepted, 0, 'bench')
            """;
        var messageContact = message.Parameters.Add("$contact", SqliteType.Text);
        message.Parameters.AddWithValue("$newsletter", newsletterId);
        var status = message.Parameters.Add("$status", SqliteType.Integer);
        var attempts = message.Parameters.Add("$attempts", SqliteType.Integer);
        message.Parameters.AddWithValue("$created", created);
        var wamid = message.Parameters.Add("$wamid", SqliteType.Text);
        var acceptedAt = message.Parameters.Add("$accepted", SqliteType.Text);

        var random = new Random(14);
        // Rows in queue order: yesterday's accepted ones first, then the queue.
        for (var i = 0; i < accepted.Count + queued; i++)
        {
            var id = Guid.CreateVersion7().ToString().ToUpperInvariant();
            contactId.Value = messageContact.Value = id;
            hmac.Value = Bytes(random, 32);
            phone.Value = Bytes(random, 41);
            name.Value = $"Leser {i}";
            token.Value = Bytes(random, 32);
            var sent = i < accepted.Count;
            invited.Value = sent ? Stamp(accepted[i]) : DBNull.Value;
            status.Value = (int)(sent ? WhatsAppStatus.Delivered : WhatsAppStatus.Queued);
            attempts.Value = sent ? 1 : 0;
            wamid.Value = sent ? $"wamid.bench{i}" : DBNull.Value;
            acceptedAt.Value = sent ? Stamp(accepted[i]) : DBNull.Value;
            await contact.ExecuteNonQueryAsync();
            await message.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    // How EF Core's SQLite provider writes a DateTime, so text comparisons in the app's queries hold.
    private static string Stamp(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF");

    private static double Median(List<double> values) => Percentiles.Of(values, 0.5);

    private static double Median(List<long> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>The app's clock stopped at one instant, so every forecast sees the same "now" as the history.</summary>
    private sealed class FixedClock(DateTime utc) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(utc, TimeSpan.Zero);
    }
}
