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
    private byte[] _read = new byte[4096];

    public void Add(StringBuilder text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_encoded.Length < length) _encoded = new byte[length];
        var count = 0;
        foreach (var chunk in text.GetChunks()) count += Encoding.UTF8.GetBytes(chunk.Span, _encoded.AsSpan(count));
        // Refused before it is kept: the table never holds more than its budget, whatever the part unpacks to.
        if (_end + count + 4L * (_count + 1) > ImportLimits.MaxSharedStringBytes) throw TooLarge();
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

    private long Start(int index)
    {
        var (first, relative) = _offsets[index / OffsetsPerBlock];
        return first + relative[index % OffsetsPerBlock];
    }

    internal static ImportFormatException TooLarge() => new("Import_SharedStringsTooLarge",
        $"The workbook's shared strings take more than {ImportLimits.MaxSharedStringBytes >> 20} MB: this is not a contact list.");

    /// <summary>
    /// The first <paramref name="maxChars"/> characters of the string at <paramref name="index"/>, and its whole
    /// length in <paramref name="length"/>: the preview never builds the rest of a long string.
    /// </summary>
    public string Get(int index, int maxChars, out int length)
    {
        length = 0;
        if (index < 0 || index >= _count) return "";
        var start = Start(index);
        var size = (int)((index + 1 < _count ? Start(index + 1) : _end) - start);
        if (_read.Length < size) _read = new byte[size];
        for (var copied = 0; copied < size;)
        {
            var at = start + copied;
            var block = _blocks[(int)(at / BlockSize)];
            var offset = (int)(at % BlockSize);
            var n = Math.Min(size - copied, BlockSize - offset);
            block.AsSpan(offset, n).CopyTo(_read.AsSpan(copied));
            copied += n;
        }
        var bytes = _read.AsSpan(0, size);
        length = Encoding.UTF8.GetCharCount(bytes);
        if (length <= maxChars) return Encoding.UTF8.GetString(bytes);
        // A UTF-16 character takes at most 3 bytes of UTF-8, so this prefix decodes to at least maxChars of them.
        var prefix = Encoding.UTF8.GetString(bytes[..(int)Math.Min(size, 3L * maxChars)]);
        return prefix.Length > maxChars ? prefix[..maxChars] : prefix;
    }
}
