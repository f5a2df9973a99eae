using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

/// <summary>Runs this instance's queued imports one at a time, each in its own scope; the outcome goes into the batch row.</summary>
public sealed class ImportWorker(ImportQueue queue, ImportSpool spool, ImportLeases leases, IServiceScopeFactory scopes, TimeProvider clock,
    ILogger<ImportWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
        {
            if (queue.Find(job.BatchId) is not { } status) continue;
            await RunAsync(job, status, stoppingToken);
        }
    }

    private async Task RunAsync(ImportJob job, ImportJobStatus status, CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(status.Cancellation.Token, status.Holding.Token, stoppingToken);
        await using var scope = scopes.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        // Why it stopped, in the editor's words: their Cancel (here or on another instance), this instance stopping, the
        // lease lost to another instance, or the file.
        string OutcomeOf(Exception ex) => ex switch
        {
            OperationCanceledException when status.Holding.StopKey is { } key => key,
            OperationCanceledException when status.Cancellation.IsCancellationRequested => "Import_Cancelled",
            OperationCanceledException when stoppingToken.IsCancellationRequested => "Import_Interrupted",
            OperationCanceledException => "Import_Cancelled",
            ImportFormatException format => format.ReasonKey,
            _ => "Import_Failed",
        };
        // Once the importer runs, a failure is its to clean up (it keeps the emptied batch with the outcome); before, it is ours.
        var importing = false;
        try
        {
            // The list the preview prepared: a ZIP's list was unpacked once, on the first view.
            var info = spool.Find(job.UploadId) ?? throw new FileNotFoundException("The upload has gone from the spool.");
            var (file, listName) = spool.OpenList(job.UploadId, info);
            await using var _ = file;
            status.Holding.Progress = new ImportProgress(file.Length, clock.GetUtcNow().UtcDateTime);
            importing = true;
            await importer.RunAsync(job.BatchId, job.NewsletterId, file, listName, job.UserName, job.Mapping, status.Holding.Progress, linked.Token,
                prepared: true, outcomeOf: OutcomeOf);
        }
        catch (Exception ex)
        {
            var outcome = OutcomeOf(ex);
            if (ex is OperationCanceledException or ImportFormatException) logger.LogInformation("Import batch {BatchId} stopped: {Reason}", job.BatchId, outcome);
            else logger.LogError(ex, "Import batch {BatchId} failed", job.BatchId);
            // Whatever went wrong, nothing of it stays but the emptied batch with its reason; the editor sees a message, not a hang.
            if (!importing) await importer.DiscardAsync(job.BatchId, outcome);
        }
        finally
        {
            // The job ends (the batch is released, its page shows the outcome) only after its upload has left the spool, so
            // "no import is active" also means "the spool holds no file of a finished import".
            spool.Delete(job.UploadId);
            status.Holding.Dispose();
            await leases.ReleaseAsync(job.BatchId);
            queue.End(status);
        }
    }
}
