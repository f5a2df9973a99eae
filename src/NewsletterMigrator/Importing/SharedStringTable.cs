using System.Text;

namespace NewsletterMigrator.Importing;

/// <summary>
/// An XLSX workbook's shared strings, kept as UTF-8 in 1 MB blocks with a 4-byte offset each: a string object
/// per entry cost about 50 bytes for a 12-digit number, and block lists never copy themselves as they grow
/// (a List&lt;long&gt; of offsets did, to 100 MB for 7.6 million strings). Only the strings a row refers to
/// become .NET strings.
/// </summary>
internal sealed class SharedStringTable
{
    private const int BlockSize = 1 << 20;
    private const int OffsetsPerBlock = 1 << 16;
    private readonly List<byte[]> _blocks = [];
    // Each block of offsets holds its first string's start and the others relative to it (a block spans < 2 GB).
    private readonly List<(long Base, int[] Relative)> _offsets = [];
    private int _count;
    private int _used = BlockSize;
    private long _end;
    private byte[] _encoded = new byte[4096];

    public void Add(StringBuilder text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_encoded.Length < length) _encoded = new byte[length];
        var count = 0;
        foreach (var chunk in text.GetChunks()) count += Encoding.UTF8.GetBytes(chunk.Span, _encoded.AsSpan(count));
        if (_count % OffsetsPerBlock == 0) _offsets.Add((_end, new int[OffsetsPerBlock]));
        var (first, relative) = _offsets[^1];
        relative[_count % OffsetsPerBlock] = checked((int)(_end - first));
        _count++;
        var source = _encoded.AsSpan(0, count);
        while (source.Length > 0)
        {
            if (_used == BlockSize)
            {
                _blocks.Add(new byte[BlockSize]);
                _used = 0;
            }
            var n = Math.Min(source.Length, BlockSize - _used);
            source[..n].CopyTo(_blocks[^1].AsSpan(_used));
            _used += n;
            source = source[n..];
        }
        _end += count;
    }

    public int Count => _count;

    private long Start(int index)
    {
        var (first, relative) = _offsets[index / OffsetsPerBlock];
        return first + relative[index % OffsetsPerBlock];
    }

    /// <summary>The string at <paramref name="index"/>, or "" for an index the table does not have (a damaged cell).</summary>
    public string this[int index]
    {
        get
        {
            if (index < 0 || index >= _count) return "";
            var start = Start(index);
            var end = index + 1 < _count ? Start(index + 1) : _end;
            var bytes = new byte[end - start];
            for (var copied = 0; copied < bytes.Length;)
            {
                var at = start + copied;
                var block = _blocks[(int)(at / BlockSize)];
                var offset = (int)(at % BlockSize);
                var n = Math.Min(bytes.Length - copied, BlockSize - offset);
                block.AsSpan(offset, n).CopyTo(bytes.AsSpan(copied));
                copied += n;
            }
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
