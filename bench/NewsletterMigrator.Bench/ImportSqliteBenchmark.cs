using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The importer's SQLite side alone: ready-made rows (no parsing, no cryptography) written by the real
/// ChunkWriter into the real, migrated Contacts table, once as it is and once each without some of its
/// indexes, so the cost of every index per row is measured rather than guessed.
/// </summary>
internal static class ImportSqliteBenchmark
{
    /// <summary>Which of the contacts' migrated indexes each variant drops (by name from the schema).</summary>
    private static readonly (string Name, bool DropIndexes)[] Variants =
    [
        ("Contacts and ContactPhones as migrated", false),
        ("without the contacts' secondary indexes", true),
    ];

    public static async Task RunAsync(int rows)
    {
        var folder = Directory.CreateTempSubdirectory("nm-bench-sqlite-").FullName;
        try
        {
            var chunks = MakeRows(rows);
            Console.WriteLine($"{rows:N0} ready-made rows in chunks of {ContactImporter.ChunkSize:N0}, one transaction each");
            for (var i = 0; i < Variants.Length; i++)
            {
                var (name, drop) = Variants[i];
                var (app, newsletter) = await ImportBenchmark.CreateAppAsync(folder, $"variant{i}");
                await using var _ = app;
                await using var scope = app.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                var indexes = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'index' AND tbl_name = 'Contacts' AND sql IS NOT NULL").ToListAsync();
                foreach (var index in indexes.Where(_ => drop))
                {
                    var statement = $"DROP INDEX \"{index}\""; // a name read from the schema above
                    await db.Database.ExecuteSqlRawAsync(statement);
                }
                var batch = new ImportBatch { NewsletterId = newsletter.Id, FileName = "bench.csv", Status = ImportStatus.Running, CreatedAtUtc = DateTime.UtcNow, LeaseOwner = "bench" };
                db.ImportBatches.Add(batch);
                await db.SaveChangesAsync();

                var counts = new ContactImporter.Counts();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                await using (var writer = await ChunkWriter.OpenAsync(db, app.Services.GetRequiredService<IBulkSql>(), batch.Id, newsletter.Id, DateTime.UtcNow, "bench", CancellationToken.None))
                {
                    foreach (var chunk in chunks) await writer.WriteAsync(chunk, counts, CancellationToken.None);
                    var merge = Stopwatch.StartNew();
                    await writer.CompleteAsync(counts, CancellationToken.None); // the merge of the numbers into ContactPhones
                    Console.WriteLine($"  (of which the merge into ContactPhones: {merge.Elapsed.TotalSeconds:0.00} s)");
                }
                var seconds = sw.Elapsed.TotalSeconds;
                var cpuMicros = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / rows;
                Console.WriteLine($"{name,-50} {rows / seconds,9:N0} rows/s, {cpuMicros,5:0.0} µs CPU per row ({counts.Imported:N0} inserted)");
                SqliteConnection.ClearAllPools();
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    /// <summary>Rows shaped like the importer's: random HMACs, sealed numbers, and the importer's own ids.</summary>
    private static List<ContactImporter.PreparedRow[]> MakeRows(int rows)
    {
        var random = new Random(20261128);
        var ids = new ContactImporter.SequentialIds();
        var chunks = new List<ContactImporter.PreparedRow[]>();
        for (var start = 0; start < rows; start += ContactImporter.ChunkSize)
        {
            var chunk = new ContactImporter.PreparedRow[Math.Min(ContactImporter.ChunkSize, rows - start)];
            for (var i = 0; i < chunk.Length; i++)
            {
                chunk[i] = new ContactImporter.PreparedRow(new ContactRow(start + i + 2, "+4916012345678", $"Anna {start + i}"), null,
                    Bytes(random, 32), Bytes(random, 41), ids.Next());
            }
            chunks.Add(chunk);
        }
        return chunks;
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
