using System.Collections.Concurrent;
using System.Threading.Channels;

namespace NewsletterMigrator.Importing;

/// <summary>An import the editor started from the UI: the spooled upload goes into a Running batch.</summary>
public sealed record ImportJob(int BatchId, int NewsletterId, Guid UploadId, string FileName, string UserName, ImportMapping? Mapping);

/// <summary>
/// A job of this process while it is queued or running: how to stop it and its lease. What the pages show (state,
/// figures, outcome) is in its batch row, so that every instance shows it (issue 18).
/// </summary>
public sealed class ImportJobStatus(ImportJob job, ImportLeases.Holding holding)
{
    public ImportJob Job { get; } = job;
    public ImportLeases.Holding Holding { get; } = holding;
    /// <summary>An editor's Cancel on this instance, at once; one on another instance arrives through the batch row (<see cref="ImportLeases"/>).</summary>
    public CancellationTokenSource Cancellation { get; } = new();
}

/// <summary>
/// Imports run one after another in <see cref="ImportWorker"/>, never inside a request, so a
/// million-row list neither times out nor ties up the page; the editor can leave and come back.
/// The queue is this process's: the upload lies in this instance's data folder, so the instance that received
/// it runs the import (see README, "Several instances").
/// </summary>
public sealed class ImportQueue(ImportLeases leases)
{
    private readonly Channel<ImportJob> _channel = Channel.CreateUnbounded<ImportJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<int, ImportJobStatus> _jobs = new();

    public ChannelReader<ImportJob> Reader => _channel.Reader;

    /// <summary>Queues the job; its batch stays this instance's (lease renewed) until <see cref="End"/>.</summary>
    public ImportJobStatus Enqueue(ImportJob job)
    {
        var status = new ImportJobStatus(job, leases.Hold(job.BatchId));
        _jobs[job.BatchId] = status;
        if (!_channel.Writer.TryWrite(job)) throw new InvalidOperationException("The import queue is closed.");
        return status;
    }

    public ImportJobStatus? Find(int batchId) => _jobs.GetValueOrDefault(batchId);

    /// <summary>True while this process has the job queued or running (its upload may still be in the spool).</summary>
    public bool IsActive(int batchId) => _jobs.ContainsKey(batchId);

    /// <summary>The job has ended, its upload has left the spool and its batch is released.</summary>
    internal void End(ImportJobStatus status)
    {
        _jobs.TryRemove(new KeyValuePair<int, ImportJobStatus>(status.Job.BatchId, status));
    }

    /// <summary>Stops a queued or running import of this process at once; the worker then removes what it wrote.</summary>
    public bool Cancel(int batchId, int newsletterId)
    {
        if (Find(batchId) is not { } status || status.Job.NewsletterId != newsletterId) return false;
        status.Cancellation.Cancel();
        return true;
    }
}
