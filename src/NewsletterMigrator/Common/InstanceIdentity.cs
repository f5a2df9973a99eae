using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Common;

/// <summary>
/// Who holds a lease. The instance id is made once, at random, in the data folder (next to the database
/// and the Data Protection keys) and survives restarts, so a restarted process recognises the leases its
/// crashed predecessor left behind and takes them back at once instead of waiting for them to expire.
/// The id is this process's only while it holds the id file locked. Two processes that share a data folder
/// by mistake must never take back each other's live leases: the second gets an id of its own for its
/// lifetime, and its leases, like those of every other instance, are taken over only once they expire.
/// The operating system drops the lock when the process ends, also on kill -9. (A data folder on a network
/// share whose locks do not reach across machines cannot give this proof; the folder must be a local disk.)
/// </summary>
public sealed class InstanceIdentity : IDisposable
{
    public const string FileName = "instance-id";

    private readonly FileStream? _lock;

    public InstanceIdentity(IOptions<AppOptions> app, ILogger<InstanceIdentity> logger) : this(app.Value.DataDirectory, logger)
    {
    }

    internal InstanceIdentity(string dataDirectory, ILogger logger)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            // FileShare.None takes an exclusive lock (flock on Linux) that lasts as long as the stream is open.
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            Id = ReadOrCreate(_lock);
            OwnsPersistedId = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _lock?.Dispose();
            _lock = null;
            Id = Guid.NewGuid().ToString("N");
            logger.LogWarning("The instance id in {Folder} could not be taken (another process using the folder?): this process uses a "
                + "temporary id and leaves leases it did not take itself to expire. Several instances need a data folder each. ({Reason})",
                dataDirectory, ex.Message);
        }
    }

    /// <summary>The instance id: from the data folder when <see cref="OwnsPersistedId"/>, otherwise this process's own.</summary>
    public string Id { get; }

    /// <summary>True when this process holds the id file, so leases under <see cref="Id"/> from an earlier run are provably its own.</summary>
    public bool OwnsPersistedId { get; }

    /// <summary>A lease owner for one worker of this run: the instance id, then a part new with every start.</summary>
    public string NewLeaseOwner() => $"{Id}/{Guid.NewGuid():N}";

    /// <summary>
    /// The owner prefix of leases an earlier run of this instance left behind, which this run may take back;
    /// null when this process cannot prove the persisted id is its own.
    /// </summary>
    public string? EarlierRunsPrefix => OwnsPersistedId ? Id + "/" : null;

    private static string ReadOrCreate(FileStream file)
    {
        using var reader = new StreamReader(file, leaveOpen: true);
        if (Guid.TryParseExact(reader.ReadToEnd().Trim(), "N", out var existing)) return existing.ToString("N");
        // New, or unreadable (e.g. cut short by a crash while it was first written): leases under a lost id expire as before.
        var id = Guid.NewGuid().ToString("N");
        file.SetLength(0);
        using (var writer = new StreamWriter(file, leaveOpen: true)) writer.Write(id);
        file.Flush(flushToDisk: true);
        return id;
    }

    public void Dispose() => _lock?.Dispose();
}
