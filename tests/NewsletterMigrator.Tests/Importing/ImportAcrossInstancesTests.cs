using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 18: two app instances on one database (here: one SQLite file). An import runs on the instance that received
/// the upload, but its state, figures and outcome are in its batch row, so the other instance shows its page, can
/// cancel it, and removes it if its instance dies: only once its lease has expired, never while the instance lives.
/// </summary>
public sealed class ImportAcrossInstancesTests
{
    /// <summary>
    /// Short, so that a lease that is not renewed ends within the test: renewed every second, checked every two seconds. Not
    /// for a real import in a test: on a loaded machine a renewal waited longer than that behind the import's own writes.
    /// </summary>
    private static readonly Dictionary<string, string?> ShortLeases = new() { ["Import:LeaseDuration"] = "00:00:04" };

    /// <summary>While a real import runs: its renewals every second, checks every ten seconds.</summary>
    private static readonly Dictionary<string, string?> RunningLeases = new() { ["Import:LeaseDuration"] = "00:00:20" };

    /// <summary>A list that takes this machine some seconds to import, so the other instance sees it running.</summary>
    private static byte[] LongList(int rows = 100_000)
    {
        var text = new StringBuilder("Telefon\n", rows * 13);
        for (var i = 0; i < rows; i++) text.Append("0160 ").Append(1_000_000 + i).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public async Task An_import_started_on_one_instance_shows_its_progress_and_its_result_on_the_other()
    {
        await using var first = new AppFactory(settings: RunningLeases);
        await using var second = new AppFactory(settings: RunningLeases, reuse: first);
        var newsletter = await first.NewsletterAsync();
        var onFirst = await first.EditorAsync();
        var onSecond = await SignedInEditorAsync(second);

        var (_, batchPath) = await onFirst.StartImportThroughUiAsync(newsletter.Id, "liste.csv", LongList());
        var seen = await WatchAsync(onSecond, batchPath);

        Assert.Contains(seen, p => p.State == "running" && p.Rows > 0 && p.Percent > 0);
        Assert.Equal("completed", seen[^1].State);
        var page = await onSecond.GetStringAsync(batchPath);
        Assert.Contains("id=\"import-summary\"", page);
        Assert.Contains("<dd class=\"col-sm-9\">100000</dd>", page); // imported
        Assert.Equal(100_000, await second.WithDbAsync(db => db.Contacts.CountAsync()));
    }

    [Fact]
    public async Task An_editor_on_the_other_instance_cancels_an_import_and_both_instances_say_nothing_was_imported()
    {
        await using var first = new AppFactory(settings: RunningLeases);
        await using var second = new AppFactory(settings: RunningLeases, reuse: first);
        var newsletter = await first.NewsletterAsync();
        var onFirst = await first.EditorAsync();
        var onSecond = await SignedInEditorAsync(second);
        var (_, batchPath) = await onFirst.StartImportThroughUiAsync(newsletter.Id, "liste.csv", LongList(200_000));

        // As soon as the other instance's page shows the first rows, its editor presses Cancel there.
        await WatchAsync(onSecond, batchPath, until: p => p.Rows > 0);
        var page = await onSecond.GetStringAsync(batchPath);
        Assert.Contains("id=\"import-cancel\"", page);
        Assert.Equal(HttpStatusCode.Redirect, (await onSecond.PostFormAsync(batchPath + "?handler=Cancel", page, [])).StatusCode);

        Assert.Equal("cancelled", (await WatchAsync(onSecond, batchPath))[^1].State);
        foreach (var editor in new[] { onFirst, onSecond })
        {
            var outcome = await editor.GetStringAsync(batchPath);
            Assert.Contains("Der Import wurde abgebrochen.", outcome);
            Assert.Contains("Es wurde nichts importiert.", outcome);
        }
        Assert.Equal(0, await second.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));
        Assert.Equal(0, await second.WithDbAsync(db => db.ImportIssues.CountAsync()));
    }

    [Fact]
    public async Task A_crashed_instances_import_is_removed_by_the_other_only_after_its_lease_expired_and_never_while_it_lives()
    {
        await using var first = new AppFactory(settings: ShortLeases);
        var clock = new SettableClock();
        await using var second = new AppFactory(settings: ShortLeases, reuse: first) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var newsletter = await first.NewsletterAsync();
        await first.EditorAsync();
        var onSecond = await SignedInEditorAsync(second);
        // The first instance is in the middle of an import: its batch, held by its lease, with the contacts of its first chunks.
        var alive = await StartedBatchAsync(first, newsletter.Id);
        using var holding = first.Service<ImportLeases>().Hold(alive);
        // A batch whose instance died earlier: its lease has expired. Its removal shows that the instances do check.
        var dead = await first.WithDbAsync(async db =>
        {
            var batch = Batch(newsletter.Id, "alt.csv");
            (batch.LeaseOwner, batch.LeaseExpiresAtUtc) = ("a-dead-instance/1", DateTime.UtcNow.AddSeconds(-1));
            db.ImportBatches.Add(batch);
            await db.SaveChangesAsync();
            return batch.Id;
        });
        await WaitUntilAsync(second, db => db.ImportBatches.AllAsync(b => b.Id != dead), "the dead instance's import was not removed");

        // Two and a half lease durations later the live instance's import is still there, and running on the other instance's page.
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.Equal(3, await second.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync(c => c.ImportBatchId == alive)));
        var page = $"/admin/import/{newsletter.Id}/batch/{alive}";
        Assert.Contains("id=\"import-progress\"", await onSecond.GetStringAsync(page));

        // Now the first instance dies mid-import: nothing of it releases or removes the batch, and its lease runs out. So that
        // "not before it expired" does not depend on how long the stop takes, the second instance's clock goes back a minute.
        clock.Advance(TimeSpan.FromMinutes(-1));
        await first.StopHostAsync();
        await Task.Delay(TimeSpan.FromSeconds(6)); // the first instance renews no more: by the real clock its lease has run out
        Assert.Equal(3, await second.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync(c => c.ImportBatchId == alive)));
        Assert.Contains("id=\"import-progress\"", await onSecond.GetStringAsync(page));

        clock.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(second, db => db.ImportBatches.AllAsync(b => b.Id != alive), "the crashed import was not removed after its lease expired");
        Assert.Equal(0, await second.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));

        var response = await onSecond.GetAsync(page);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Bitte laden Sie die Liste erneut hoch.", html);
        Assert.Contains("Es wurde nichts importiert.", html);
    }

    [Fact]
    public async Task A_restarted_instance_removes_at_once_the_import_its_earlier_run_held_without_waiting_for_the_lease()
    {
        await using var first = new AppFactory(); // leases of a minute: a removal within the test is not an expiry
        var newsletter = await first.NewsletterAsync();
        var instance = first.Service<NewsletterMigrator.Common.InstanceIdentity>();
        Assert.True(instance.OwnsPersistedId);
        var batchId = await StartedBatchAsync(first, newsletter.Id);
        await first.StopHostAsync();
        var left = await WithStoppedDbAsync(first, db => db.ImportBatches.SingleAsync(b => b.Id == batchId));
        Assert.StartsWith(instance.EarlierRunsPrefix!, left.LeaseOwner);
        Assert.True(left.LeaseExpiresAtUtc > DateTime.UtcNow.AddSeconds(30));

        await using var second = new AppFactory(reuse: first);
        await WaitUntilAsync(second, db => db.ImportBatches.AllAsync(b => b.Id != batchId), "the import of the earlier run was not removed");
        Assert.True(DateTime.UtcNow < left.LeaseExpiresAtUtc, "removed only after its lease expired: the take-back did not work");
        Assert.Equal(0, await second.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));
    }

    /// <summary>What an import that has written its first chunks looks like: a Running batch held by this instance, three contacts.</summary>
    private static async Task<int> StartedBatchAsync(AppFactory app, int newsletterId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var start = await scope.ServiceProvider.GetRequiredService<ContactImporter>()
            .StartBatchAsync(newsletterId, "liste.csv", "editor@example.test", TestImports.Basis, CancellationToken.None);
        await app.WithDbAsync(async db =>
        {
            for (var i = 0; i < 3; i++) db.Contacts.Add(Contact(newsletterId, start.BatchId));
            await db.ImportBatches.Where(b => b.Id == start.BatchId).ExecuteUpdateAsync(u => u.SetProperty(b => b.StartedAtUtc, DateTime.UtcNow));
            return await db.SaveChangesAsync();
        });
        return start.BatchId;
    }

    private static ImportBatch Batch(int newsletterId, string fileName) => new()
    {
        NewsletterId = newsletterId, FileName = fileName, CreatedBy = "editor@example.test", CreatedAtUtc = DateTime.UtcNow, Status = ImportStatus.Running,
    };

    private static Contact Contact(int newsletterId, int batchId) => new()
    {
        Id = Guid.CreateVersion7(), NewsletterId = newsletterId, ImportBatchId = batchId, CreatedAtUtc = DateTime.UtcNow,
        PhoneHmac = RandomNumberGenerator.GetBytes(32),
    };

    /// <summary>The editor an instance created, signed in on <paramref name="app"/> with cookies of its own (a browser behind a load balancer).</summary>
    private static async Task<HttpClient> SignedInEditorAsync(AppFactory app)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync("editor@example.test", "long enough password")).StatusCode);
        return client;
    }

    private sealed record Progress(string State, long Rows, double Percent);

    /// <summary>Polls the progress endpoint as the page's script does, until the import has ended (or <paramref name="until"/>); every answer seen.</summary>
    private static async Task<List<Progress>> WatchAsync(HttpClient editor, string batchPath, Func<Progress, bool>? until = null)
    {
        var seen = new List<Progress>();
        for (var deadline = DateTime.UtcNow.AddSeconds(120); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            using var json = JsonDocument.Parse(await editor.GetStringAsync(batchPath + "?handler=Progress"));
            var p = new Progress(json.RootElement.GetProperty("state").GetString()!, json.RootElement.GetProperty("rows").GetInt64(),
                json.RootElement.GetProperty("percent").GetDouble());
            seen.Add(p);
            if (until?.Invoke(p) == true || p.State is not ("running" or "queued")) return seen;
        }
        throw new TimeoutException("The import did not end within two minutes: " + string.Join(", ", seen.TakeLast(3)));
    }

    private static async Task WaitUntilAsync(AppFactory app, Func<AppDbContext, Task<bool>> condition, string failure)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            if (await app.WithDbAsync(condition)) return;
        }
        Assert.Fail(failure);
    }

    private static async Task<TResult> WithStoppedDbAsync<TResult>(AppFactory stopped, Func<AppDbContext, Task<TResult>> query)
    {
        await using var db = TestDatabases.Open(stopped);
        return await query(db);
    }
}
