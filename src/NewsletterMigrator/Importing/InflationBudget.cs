namespace NewsletterMigrator.Importing;

/// <summary>
/// Counts the bytes really inflated from one archive, part by part and in total, and refuses the archive as
/// soon as a part outgrows its limit or the whole outgrows <see cref="ImportLimits.MaxCompressionRatio"/> times
/// the archive's size. The sizes a ZIP header declares are never used: a bomb declares what it likes.
/// </summary>
internal sealed class InflationBudget(long archiveBytes, ReadLimits limits)
{
    private readonly long _total = Math.Max(ImportLimits.CompressionGraceBytes, archiveBytes * ImportLimits.MaxCompressionRatio);
    private long _inflated;

    /// <summary>The stream of one part, refused once it yields more than <paramref name="partLimit"/> (default: the configured maximum).</summary>
    public Stream Watch(Stream inflating, long? partLimit = null) => new Counting(inflating, this, partLimit ?? limits.MaxUnpackedBytes);

    /// <summary>Reads a part to its end without keeping it: the package index is checked before the OpenXML SDK reads it whole.</summary>
    public void Drain(Stream inflating, long partLimit)
    {
        using var watched = Watch(inflating, partLimit);
        var buffer = new byte[1 << 16];
        while (watched.Read(buffer) > 0) { }
    }

    private void Add(long bytes)
    {
        _inflated += bytes;
        if (_inflated > _total) throw TooLarge();
    }

    internal static ImportFormatException TooLarge() =>
        new("Import_UnpackedTooLarge", "The archive unpacks to far more than its size (a zip bomb?): nothing was read.");

    private sealed class Counting(Stream inner, InflationBudget budget, long limit) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        private int Count(int read)
        {
            _read += read;
            if (_read > limit) throw TooLarge();
            budget.Add(read);
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
