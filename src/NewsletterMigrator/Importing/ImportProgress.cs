namespace NewsletterMigrator.Importing;

/// <summary>
/// Figures of one import: moved in memory by the importer after each chunk (nothing on the hot path), written to the batch
/// row about every second by <see cref="ImportLeases"/>, and rebuilt from the row for the progress page (<see cref="ImportJobStates"/>).
/// </summary>
public sealed class ImportProgress(long totalBytes, DateTime startedUtc)
{
    private long _rows;
    private long _bytes;

    public long TotalBytes { get; } = totalBytes;
    public DateTime StartedUtc { get; } = startedUtc;
    public long Rows => Interlocked.Read(ref _rows);
    public long Bytes => Interlocked.Read(ref _bytes);

    public void Report(long rows, long bytes)
    {
        Interlocked.Exchange(ref _rows, rows);
        Interlocked.Exchange(ref _bytes, bytes);
    }

    public double RowsPerSecond(DateTime nowUtc)
    {
        var seconds = (nowUtc - StartedUtc).TotalSeconds;
        return seconds > 0.1 ? Rows / seconds : 0;
    }

    /// <summary>The share of the file read so far, which also gives the time left.</summary>
    public double Fraction => TotalBytes > 0 ? Math.Clamp((double)Bytes / TotalBytes, 0, 1) : 0;

    public TimeSpan? TimeLeft(DateTime nowUtc)
    {
        var fraction = Fraction;
        if (fraction <= 0.001) return null;
        var elapsed = nowUtc - StartedUtc;
        return TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - fraction) / fraction);
    }
}
