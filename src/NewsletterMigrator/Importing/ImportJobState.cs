using NewsletterMigrator.Data;

namespace NewsletterMigrator.Importing;

public enum ImportJobState { Queued, Running, Completed, Failed, Cancelled }

/// <summary>What an import's page shows, read from its batch row alone, so every instance shows the same (issue 18).</summary>
public static class ImportJobStates
{
    public static ImportJobState Of(ImportBatch batch, DateTime nowUtc) => batch switch
    {
        { Status: ImportStatus.Running, StartedAtUtc: null } => ImportJobState.Queued,
        { Status: ImportStatus.Running } => ImportJobState.Running,
        // Ended, but its instance still tidies up (removes the upload from its spool) and holds it: not over yet.
        { LeaseOwner: not null } when batch.LeaseExpiresAtUtc > nowUtc => ImportJobState.Running,
        { Status: ImportStatus.Completed } => ImportJobState.Completed,
        { OutcomeKey: "Import_Cancelled" } => ImportJobState.Cancelled,
        _ => ImportJobState.Failed,
    };

    /// <summary>The figures of the progress bar: rows and bytes as the running instance last wrote them.</summary>
    public static ImportProgress Progress(ImportBatch batch, DateTime nowUtc)
    {
        var progress = new ImportProgress(batch.TotalBytes, batch.StartedAtUtc ?? nowUtc);
        progress.Report(batch.RowsRead, batch.BytesRead);
        return progress;
    }
}
