using System.Collections.Concurrent;
using System.Threading.Channels;

namespace NewsletterMigrator.Importing;

/// <summary>An import the editor started from the UI: the spooled upload goes into a Running batch.</summary>
public sealed record ImportJob(int BatchId, int NewsletterId, Guid UploadId, string FileName, string UserName, ImportMapping? Mapping);

public enum ImportJobState { Queued, Running, Completed, Failed, Cancelled }

/// <summary>What the progress page shows of one job while the process lives.</summary>
public sealed class ImportJobStatus(ImportJob job, long totalBytes)
{
    public ImportJob Job { get; } = job;
    public ImportProgress Progress { get; set; } = new(totalBytes, DateTime.UtcNow);
    public long TotalBytes { get; } = totalBytes;
    public volatile ImportJobState State = ImportJobState.Queued;
    public string? ErrorKey { get; set; }
    public ImportSummary? Summary { get; set; }
    public CancellationTokenSource Cancellation { get; } = new();
}

/// <summary>
/// Imports run one after another in <see cref="ImportWorker"/>, never inside a request, so a
/// million-row list neither times out nor ties up the page; the editor can leave and come back.
/// </summary>
public sealed class ImportQueue
{
    private readonly Channel<ImportJob> _channel = Channel.CreateUnbounded<ImportJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<int, ImportJobStatus> _jobs = new();

    public ChannelReader<ImportJob> Reader => _channel.Reader;

    public ImportJobStatus Enqueue(ImportJob job, long totalBytes)
    {
        var status = new ImportJobStatus(job, totalBytes);
        _jobs[job.BatchId] = status;
        if (!_channel.Writer.TryWrite(job)) throw new InvalidOperationException("The import queue is closed.");
        return status;
    }

    public ImportJobStatus? Find(int batchId) => _jobs.GetValueOrDefault(batchId);

    /// <summary>The job, or null when this newsletter has none with this batch id.</summary>
    public ImportJobStatus? Find(int newsletterId, int batchId) => Find(batchId) is { } status && status.Job.NewsletterId == newsletterId ? status : null;

    public bool IsActive(int batchId) => Find(batchId) is { State: ImportJobState.Queued or ImportJobState.Running };

    /// <summary>Asks a queued or running import to stop; the worker then removes what it wrote.</summary>
    public bool Cancel(int batchId, int newsletterId)
    {
        if (Find(newsletterId, batchId) is not { } status) return false;
        if (status.State is not (ImportJobState.Queued or ImportJobState.Running)) return false;
        status.Cancellation.Cancel();
        return true;
    }
}
