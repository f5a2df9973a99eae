using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The click-to-chat queue and the funnel on a real SQLite file with many contacts: the queue's keyset
/// step must cost the same at the first and the last contact.
/// </summary>
public static class InvitationQueueBench
{
    public static async Task RunAsync(int contacts)
    {
        var folder = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        try
        {
            var options = new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "bench.db")}").Options;
            await using var db = new SqliteAppDbContext(options);
            await db.Database.MigrateAsync();
            var newsletter = new Newsletter { Slug = "bench", Name = "Bench", SenderName = "Bench", SenderAddress = "bench@example.test", MigrationEndsAtUtc = DateTime.UtcNow.AddDays(30) };
            db.Newsletters.Add(newsletter);
            await db.SaveChangesAsync();
            var imports = new[] { new ImportBatch { NewsletterId = newsletter.Id, FileName = "a.csv", Status = ImportStatus.Completed }, new ImportBatch { NewsletterId = newsletter.Id, FileName = "b.csv", Status = ImportStatus.Completed } };
            db.ImportBatches.AddRange(imports);
            await db.SaveChangesAsync();

            var seed = Stopwatch.StartNew();
            var ids = await SeedAsync(db, newsletter.Id, imports.Select(i => i.Id).ToArray(), contacts);
            Console.WriteLine($"Seeded {contacts:N0} contacts (half of them invited) in {seed.ElapsedMilliseconds} ms");

            var queue = new InvitationQueue(db, TimeProvider.System);
            await queue.NextAsync(newsletter.Id, null, QueueFilter.Open, null); // warm-up
            foreach (var (label, after) in new[] { ("first", (Guid?)null), ("middle", ids[ids.Count / 2]), ("last", ids[^2]) })
            {
                foreach (var filter in new[] { QueueFilter.Open, QueueFilter.All })
                {
                    foreach (var import in new int?[] { null, imports[1].Id })
                    {
                        var watch = Stopwatch.StartNew();
                        const int rounds = 20;
                        InvitationQueue.Position? position = null;
                        for (var i = 0; i < rounds; i++) position = await queue.NextAsync(newsletter.Id, import, filter, after);
                        Console.WriteLine($"Queue step at the {label,-6} contact, filter {filter,-4}, import {(import is null ? "all" : "one"),-3}: " +
                                          $"{watch.Elapsed.TotalMilliseconds / rounds,7:F2} ms (contact {position!.Number:N0} of {position.Total:N0})");
                    }
                }
            }

            if (Environment.GetEnvironmentVariable("BENCH_SQL") == "1")
            {
                var logged = new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "bench.db")}")
                    .LogTo(Console.WriteLine, [Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandExecuted]).Options;
                await using var loggedDb = new SqliteAppDbContext(logged);
                await new InvitationQueue(loggedDb, TimeProvider.System).NextAsync(newsletter.Id, null, QueueFilter.All, ids[ids.Count / 2]);
                await new InvitationQueue(loggedDb, TimeProvider.System).NextAsync(newsletter.Id, null, QueueFilter.Open, ids[ids.Count / 2]);
                await new FunnelReport(loggedDb).ForNewsletterAsync(newsletter.Id);
            }
            var funnel = new FunnelReport(db);
            var f = Stopwatch.StartNew();
            var report = await funnel.ForNewsletterAsync(newsletter.Id);
            Console.WriteLine($"Funnel over {report.Total.Imported:N0} contacts: {f.ElapsedMilliseconds} ms");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<List<Guid>> SeedAsync(AppDbContext db, int newsletterId, int[] importIds, int count)
    {
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO Contacts (Id, NewsletterId, ImportBatchId, PhoneHmac, PhoneEncrypted, DisplayName, InviteTokenHash, TokenGeneration, CreatedAtUtc, InvitedAtUtc)
            VALUES ($id, $newsletter, $batch, $hmac, $phone, $name, $token, 0, $created, $invited)
            """;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        command.Parameters.AddWithValue("$newsletter", newsletterId);
        var batch = command.Parameters.Add("$batch", SqliteType.Integer);
        var hmac = command.Parameters.Add("$hmac", SqliteType.Blob);
        var phone = command.Parameters.Add("$phone", SqliteType.Blob);
        var name = command.Parameters.Add("$name", SqliteType.Text);
        var token = command.Parameters.Add("$token", SqliteType.Blob);
        var created = command.Parameters.Add("$created", SqliteType.Text);
        var invited = command.Parameters.Add("$invited", SqliteType.Text);
        var ids = new List<Guid>(count);
        for (var i = 0; i < count; i++)
        {
            var guid = Guid.CreateVersion7();
            ids.Add(guid);
            id.Value = guid.ToString().ToUpperInvariant();
            batch.Value = importIds[i % importIds.Length];
            hmac.Value = RandomNumberGenerator.GetBytes(32);
            phone.Value = RandomNumberGenerator.GetBytes(41);
            name.Value = $"Leser {i}";
            token.Value = RandomNumberGenerator.GetBytes(32);
            created.Value = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF");
            invited.Value = i % 2 == 0 ? DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF") : DBNull.Value;
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
        // The queue orders by the id as SQLite stores it (upper-case text), which is what keyset paging follows.
        return [.. ids.OrderBy(g => g.ToString().ToUpperInvariant(), StringComparer.Ordinal)];
    }
}
