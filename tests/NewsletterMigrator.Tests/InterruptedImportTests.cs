using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// An import runs in the background; if the app stops under it (crash, redeploy), the next start
/// removes what it had written (all or nothing), and the editor who comes back to its page, or whose
/// open progress page polls it, learns that nothing was kept instead of watching a bar that never moves.
/// </summary>
public sealed class InterruptedImportTests
{
    [ProviderTheory, DatabaseProviders]
    public async Task An_import_cut_off_by_a_restart_is_removed_and_its_page_says_that_nothing_was_imported(DatabaseProvider database)
    {
        await using var first = new AppFactory(provider: database);
        var newsletter = await first.NewsletterAsync();
        // What a process that died in the middle of an import leaves behind: a Running batch with the contacts of its first chunks.
        var batchId = await first.WithDbAsync(async db =>
        {
            var batch = new ImportBatch
            {
                NewsletterId = newsletter.Id, FileName = "abonnenten.csv", LegalBasis = "", CreatedBy = "editor@example.test",
                CreatedAtUtc = DateTime.UtcNow, Status = ImportStatus.Running,
            };
            db.ImportBatches.Add(batch);
            await db.SaveChangesAsync();
            for (var i = 0; i < 3; i++)
            {
                db.Contacts.Add(new Contact
                {
                    Id = Guid.CreateVersion7(), NewsletterId = newsletter.Id, ImportBatchId = batch.Id, CreatedAtUtc = DateTime.UtcNow,
                    PhoneHmac = RandomNumberGenerator.GetBytes(32),
                });
            }
            await db.SaveChangesAsync();
            return batch.Id;
        });
        var page = $"/admin/import/{newsletter.Id}/batch/{batchId}";
        var before = await (await first.EditorAsync()).GetStringAsync(page);
        Assert.Contains("import-progress", before); // the progress page an editor would have open
        await first.StopHostAsync();

        await using var second = new AppFactory(reuse: first);
        var editor = second.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await editor.SignInAsync("editor@example.test", "long enough password"); // the account the first process created
        var remaining = int.MaxValue;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); remaining > 0 && DateTime.UtcNow < deadline; await Task.Delay(50))
            remaining = await second.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync(c => c.ImportBatchId == batchId))
                        + await second.WithDbAsync(db => db.ImportBatches.CountAsync(b => b.Id == batchId));
        Assert.Equal(0, remaining);

        var progress = await editor.GetAsync(page + "?handler=Progress");
        Assert.Equal(HttpStatusCode.NotFound, progress.StatusCode); // import-progress.js reloads the page on this
        var response = await editor.GetAsync(page);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Diesen Import gibt es nicht (mehr)", html);
        Assert.Contains("durch einen Neustart oder Ausfall der Anwendung unterbrochen", html);
        Assert.Contains("Bitte laden Sie die Liste erneut hoch.", html);
        Assert.Contains("Es wurde nichts importiert.", html);
        Assert.Contains($"href=\"/admin/import/{newsletter.Id}\"", html);
    }
}
