using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewsletterMigrator;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using PhoneNumbers;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The import end to end (real importer, fresh SQLite file, encryption, tokens) against a raw
/// pipeline on the same file: read line by line, parse with libphonenumber, insert with one
/// prepared command in one transaction. With a PostgreSQL server, the same import also goes into a
/// fresh PostgreSQL database in the same run (the provider's binary COPY), measured against the SQLite import.
/// </summary>
internal static class ImportBenchmark
{
    /// <summary>Issue 18: PostgreSQL's import must reach this on the two-core machine that also runs the server, and at least SQLite's rate.</summary>
    private const double PostgresTarget = 50_000;

    public static async Task RunAsync(int rows, string? postgres = null)
    {
        var folder = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        try
        {
            var list = Path.Combine(folder, "list.csv");
            var sw = Stopwatch.StartNew();
            ListGenerator.Write(list, rows);
            Console.WriteLine($"Generated {rows:N0} rows ({new FileInfo(list).Length / 1048576.0:0.0} MB) in {sw.Elapsed.TotalSeconds:0.0} s");
            Console.WriteLine($"Processors: {Environment.ProcessorCount}");

            // Warm up both paths (JIT, libphonenumber metadata) on a small list.
            var warm = Path.Combine(folder, "warm.csv");
            ListGenerator.Write(warm, 20_000);
            await ImportAsync(folder, warm, "warm");
            if (postgres is not null) await ImportIntoPostgresAsync(postgres, folder, warm, "warm-postgres");
            Raw(folder, warm, "warm");

            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var raw = Raw(folder, list, "raw");
            var rawCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            Console.WriteLine($"Raw pipeline CPU time: {rawCpu:0.00} s");
            Console.WriteLine($"Raw pipeline:  {raw.Rows:N0} rows in {raw.Seconds:0.00} s = {raw.Rows / raw.Seconds:N0} rows/s");

            GC.Collect();
            var baseline = Process.GetCurrentProcess().WorkingSet64;
            using var sampler = new MemorySampler();
            var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
            var import = await ImportAsync(folder, list, "app");
            var importCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu1).TotalSeconds;
            Console.WriteLine($"Importer CPU time: {importCpu:0.00} s (all threads)");
            var peakManaged = sampler.Stop();
            Console.WriteLine($"Importer:      {import.Summary.Rows:N0} rows in {import.Seconds:0.00} s = {import.Summary.Rows / import.Seconds:N0} rows/s " +
                $"({import.Summary.Imported:N0} imported, {import.Summary.Duplicates:N0} duplicates, {import.Summary.Invalid:N0} invalid)");
            Console.WriteLine($"Ratio importer / raw: {(import.Summary.Rows / import.Seconds) / (raw.Rows / raw.Seconds):0.00}");
            Console.WriteLine($"Peak working set (process): {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0} MB " +
                $"(before the import: {baseline / 1048576.0:0} MB); peak managed heap during the import: {peakManaged / 1048576.0:0} MB; " +
                $"GCs gen0/1/2: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
            if (postgres is not null) await PostgresAsync(postgres, folder, list, import.Summary.Rows / import.Seconds);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The same list into a fresh PostgreSQL database, after the SQLite import: the peak working set is reset first, so
    /// it is this import's alone (the app's process; the server's memory is its own processes').
    /// </summary>
    private static async Task PostgresAsync(string server, string folder, string list, double sqliteRate)
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        SendBenchmark.ResetPeakMemory();
        var baseline = SendBenchmark.ProcStatusMb("VmRSS:");
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var import = await ImportIntoPostgresAsync(server, folder, list, "app-postgres");
        var importCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var rate = import.Summary.Rows / import.Seconds;
        Console.WriteLine($"PostgreSQL importer CPU time: {importCpu:0.00} s (this process, all threads; the server's CPU is not in it)");
        Console.WriteLine($"PostgreSQL:    {import.Summary.Rows:N0} rows in {import.Seconds:0.00} s = {rate:N0} rows/s " +
            $"({import.Summary.Imported:N0} imported, {import.Summary.Duplicates:N0} duplicates, {import.Summary.Invalid:N0} invalid)");
        Console.WriteLine($"Ratio PostgreSQL / SQLite: {rate / sqliteRate:0.00}");
        Console.WriteLine($"Peak working set (process) during the PostgreSQL import: {SendBenchmark.ProcStatusMb("VmHWM:"):N0} MB (before it: {baseline:N0} MB)");
        Console.WriteLine($"Targets: >= {PostgresTarget:N0} rows/s {(rate >= PostgresTarget ? "met" : "MISSED")}; " +
            $">= the SQLite rate in this run ({sqliteRate:N0} rows/s) {(rate >= sqliteRate ? "met" : "MISSED")}");
    }

    /// <summary>One import into a new database on <paramref name="server"/>, dropped afterwards.</summary>
    private static async Task<(ImportSummary Summary, double Seconds)> ImportIntoPostgresAsync(string server, string folder, string list, string name)
    {
        await using var database = await BenchPostgres.CreateAsync(server);
        return await ImportAsync(folder, list, name, database.ConnectionString);
    }

    private static async Task<(ImportSummary Summary, double Seconds)> ImportAsync(string folder, string list, string name, string? postgres = null)
    {
        var (app, newsletter) = await CreateAppAsync(folder, name, postgres: postgres);
        await using var _ = app;
        await using var scope = app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        var sw = Stopwatch.StartNew();
        await using var file = File.OpenRead(list);
        var summary = await importer.ImportAsync(newsletter.Id, file, "list.csv", "bench",
            new ImportLegalBasis(LegalBases.ExistingConsent, "bench: existing WhatsApp newsletter consent"));
        if (summary.Refused) throw new InvalidOperationException("Import refused: " + string.Join(", ", summary.Refusals));
        return (summary, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The app's services on a fresh, migrated SQLite file in <paramref name="folder"/>/<paramref name="name"/> (or on the empty
    /// PostgreSQL database <paramref name="postgres"/>; the data folder stays, for the instance id), with one newsletter;
    /// <paramref name="configure"/> adds settings or replaces services (the clock) before the app is built.
    /// </summary>
    internal static async Task<(WebApplication App, Newsletter Newsletter)> CreateAppAsync(string folder, string name, Action<WebApplicationBuilder>? configure = null,
        string? postgres = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = folder });
        builder.Logging.ClearProviders();
        builder.Configuration["App:DataDirectory"] = Path.Combine(folder, name);
        builder.Configuration["App:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        builder.Configuration["Database:Provider"] = postgres is null ? nameof(DatabaseProvider.Sqlite) : nameof(DatabaseProvider.Postgres);
        builder.Configuration["Database:ConnectionString"] = postgres ?? $"Data Source={Path.Combine(folder, name, "bench.db")}";
        builder.Configuration["Smtp:Host"] = "127.0.0.1";
        builder.Configuration["Privacy:MailProvider"] = "Bench Mail GmbH"; // Production names the processor (C40)
        builder.Services.AddLocalization(o => o.ResourcesPath = "Resources"); // the consent texts' Art. 21 note
        builder.AddValidatedOptions();
        builder.AddStorage();
        builder.AddStaffIdentity();
        builder.AddNewsletterFeatures();
        configure?.Invoke(builder);
        var app = builder.Build();
        await app.MigrateDatabaseAsync();
        await using var scope = app.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(
            new Newsletter { Slug = "bench", Name = "Bench", SenderName = "Bench", SenderAddress = "bench@example.test", MigrationEndsAtUtc = DateTime.UtcNow.AddDays(60) }, "bench");
        return (app, newsletter);
    }

    private static (int Rows, double Seconds) Raw(string folder, string list, string name)
    {
        var util = PhoneNumberUtil.GetInstance();
        var path = Path.Combine(folder, $"raw-{name}.db");
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE Contacts (Id INTEGER PRIMARY KEY, Phone TEXT NOT NULL, Name TEXT);";
            create.ExecuteNonQuery();
        }
        var sw = Stopwatch.StartNew();
        var rows = 0;
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO Contacts (Phone, Name) VALUES ($phone, $name)";
        var phone = insert.Parameters.Add("$phone", SqliteType.Text);
        var nameParameter = insert.Parameters.Add("$name", SqliteType.Text);
        insert.Prepare();
        using var reader = new StreamReader(list);
        reader.ReadLine(); // header
        while (reader.ReadLine() is { } line)
        {
            rows++;
            var separator = line.IndexOf(';');
            var number = separator < 0 ? line : line[..separator];
            PhoneNumber parsed;
            try { parsed = util.Parse(number, "DE"); }
            catch (NumberParseException) { continue; }
            phone.Value = util.Format(parsed, PhoneNumberFormat.E164);
            nameParameter.Value = separator < 0 ? DBNull.Value : line[(separator + 1)..];
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
        return (rows, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Samples the managed heap every 20 ms: the figure that must not grow with the file.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _task;
        private long _peak;

        public MemorySampler() => _task = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, GC.GetTotalMemory(false));
                try { await Task.Delay(20, _stop.Token); } catch (OperationCanceledException) { }
            }
        });

        public long Stop()
        {
            _stop.Cancel();
            _task.Wait();
            return _peak;
        }

        public void Dispose() => _stop.Dispose();
    }
}
