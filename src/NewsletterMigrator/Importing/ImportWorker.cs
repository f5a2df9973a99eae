using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

/// <summary>Runs queued imports one at a time, each in its own scope, and cleans up after a crash.</summary>
public sealed class ImportWorker(ImportQueue queue, ImportSpool spool, IServiceScopeFactory scopes, TimeProvider clock, ILogger<ImportWorker> logger) : BackgroundService
{
    private readonly DateTime _startedUtc = clock.GetUtcNow().UtcDateTime;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SweepAsync(stoppingToken);
        await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
        {
            if (queue.Find(job.BatchId) is not { } status) continue;
            await RunAsync(job, status, stoppingToken);
        }
    }

    private async Task RunAsync(ImportJob job, ImportJobStatus status, CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(status.Cancellation.Token, stoppingToken);
        await using var scope = scopes.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        // The job ends (its state turns final) only after its upload has left the spool, so "no import is active" also
        // means "the spool holds no file of a finished import".
        var final = ImportJobState.Failed;
        try
        {
            status.Progress = new ImportProgress(status.TotalBytes, DateTime.UtcNow);
            status.State = ImportJobState.Running;
            // The list the preview prepared: a ZIP's list was unpacked once, on the first view.
            var info = spool.Find(job.UploadId) ?? throw new FileNotFoundException("The upload has gone from the spool.");
            var (file, listName) = spool.OpenList(job.UploadId, info);
            await using var _ = file;
            status.Summary = await importer.RunAsync(job.BatchId, job.NewsletterId, file, listName, job.UserName, job.Mapping, status.Progress, linked.Token,
                prepared: true);
            final = ImportJobState.Completed;
        }
        catch (OperationCanceledException)
        {
            final = ImportJobState.Cancelled;
            logger.LogInformation("Import batch {BatchId} was cancelled", job.BatchId);
        }
        catch (ImportFormatException ex)
        {
            status.ErrorKey = ex.ReasonKey;
            logger.LogInformation("Import batch {BatchId} stopped: {Reason}", job.BatchId, ex.ReasonKey);
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the importer has removed the batch; the editor sees a message, not a hang.
            status.ErrorKey = "Import_Failed";
            logger.LogError(ex, "Import batch {BatchId} failed", job.BatchId);
        }
        finally
        {
            spool.Delete(job.UploadId);
            status.State = final;
        }
    }

    /// <summary>A batch still Running at start-up belonged to a process that died: remove it (all or nothing).</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            // Only batches older than this process: an import started since is alive.
            var stale = await db.ImportBatches.Where(b => b.Status == ImportStatus.Running && b.CreatedAtUtc < _startedUtc)
                .Select(b => b.Id).ToListAsync(cancellationToken);
            var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
            foreach (var id in stale.Where(id => queue.Find(id) is null)) await importer.DiscardAsync(id);
            spool.Sweep(TimeSpan.FromDays(1));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not sweep unfinished imports");
        }
    }
}
