using System.Buffers.Binary;
using System.IO.Compression;

namespace NewsletterMigrator.Newsletters;

/// <summary>Why an uploaded logo was refused; each has its own message (Logo_* in the resources).</summary>
public enum LogoRefusal
{
    NoFile,
    NotPng,
    Broken,
    TooManyPixels,
    TooLarge,
}

/// <summary>A logo checked and cleaned, ready to store: only the chunks a browser needs to draw it.</summary>
public sealed record CleanLogo(byte[] Content, int Width, int Height);

/// <summary>
/// Checks an uploaded PNG by its content and rewrites it with only IHDR, PLTE, tRNS, IDAT (merged into one) and IEND.
/// Everything else goes: text chunks (tEXt, iTXt, zTXt carry author names, software, sometimes whole XMP packets),
/// eXIf (camera and location), iCCP (profiles of several KB), time stamps and the frames of an animated PNG (the
/// first frame stays). Every chunk's CRC is checked, and the image data is inflated and must hold exactly the
/// rows the header promises (each starting with a valid filter byte), so a truncated, corrupt or mislabelled file
/// is refused here rather than shown broken on the consent page. Managed code only: no native image decoder
/// parses what an editor uploads. JPEG and WebP are not accepted: checking them this thoroughly needs a decoder.
/// </summary>
public static class NewsletterLogoPng
{
    /// <summary>
    /// The logo is shown 40 CSS pixels high; 80 pixels serve a 2x phone screen. A side of 1,000 pixels and 250,000
    /// pixels in all leave room for wide word marks and square logos while the inflated rows stay below 2 MB
    /// (250,000 pixels of 16-bit RGBA), so a small file that inflates hugely (a "PNG bomb") is refused unread.
    /// </summary>
    public const int MaxSide = 1000;
    public const int MaxPixels = 250_000;

    /// <summary>
    /// What is stored and served. The first visit of the consent page may transfer 50 KB in all (issue 17): the
    /// Bootstrap subset and the page take about half, a PNG does not compress further, so the logo gets 24 KB.
    /// A 320x80 logo with few colours is 3–10 KB.
    /// </summary>
    public const int MaxStoredBytes = 24 * 1024;

    /// <summary>An upload larger than this is refused before it is parsed: metadata rarely adds more than a few hundred KB.</summary>
    public const int MaxUploadBytes = 512 * 1024;

    public const string ContentType = "image/png";

    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    // Adam7: x start, y start, x step, y step of the seven passes.
    private static readonly (int X, int Y, int DX, int DY)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <summary>The cleaned logo, or why it is refused; the width and height are those of the header (also for a refusal).</summary>
    public static (CleanLogo? Logo, LogoRefusal? Refusal, int Width, int Height) Clean(ReadOnlySpan<byte> file)
    {
        if (file.Length == 0) return (null, LogoRefusal.NoFile, 0, 0);
        if (file.Length < Signature.Length || !file[..Signature.Length].SequenceEqual(Signature)) return (null, LogoRefusal.NotPng, 0, 0);
        if (file.Length > MaxUploadBytes) return (null, LogoRefusal.TooLarge, 0, 0);

        Header? header = null;
        byte[]? palette = null, transparency = null;
        using var imageData = new MemoryStream();
        bool sawData = false, dataEnded = false, sawEnd = false;
        var pos = Signature.Length;
        while (!sawEnd)
        {
            // A chunk: length (4), type (4), data, CRC (4) over type and data.
            if (file.Length - pos < 12) return Broken(header);
            var length = BinaryPrimitives.ReadUInt32BigEndian(file[pos..]);
            if (length > (uint)(file.Length - pos - 12)) return Broken(header);
            var type = file.Slice(pos + 4, 4);
            var data = file.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(file[(pos + 8 + (int)length)..]);
            if (Crc32.Of(file.Slice(pos + 4, 4 + (int)length)) != crc) return Broken(header);
            foreach (var b in type)
                if (!(b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z')) return Broken(header);
            pos += 12 + (int)length;

            var name = System.Text.Encoding.ASCII.GetString(type);
            if (header is null && name != "IHDR") return Broken(null);
            if (sawData && name != "IDAT") dataEnded = true; // the IDAT chunks must follow each other
            switch (name)
            {
                case "IHDR":
                    if (header is not null) return Broken(header);
                    header = Header.Read(data);
                    if (header is null) return Broken(null);
                    if (header.Width > MaxSide || header.Height > MaxSide || (long)header.Width * header.Height > MaxPixels)
                        return (null, LogoRefusal.TooManyPixels, header.Width, header.Height);
                    break;
                case "PLTE":
                    if (palette is not null || sawData || length == 0 || length % 3 != 0 || length > 256 * 3 || header!.ColorType is 0 or 4)
                        return Broken(header);
                    palette = data.ToArray();
                    break;
                case "tRNS":
                    if (transparency is not null || sawData || !TransparencyFits(header!, palette, (int)length)) return Broken(header);
                    transparency = data.ToArray();
                    break;
                case "IDAT":
                    if (dataEnded || (header!.ColorType == 3 && palette is null)) return Broken(header);
                    sawData = true;
                    imageData.Write(data);
                    break;
                case "IEND":
                    if (!sawData || length != 0) return Broken(header);
                    sawEnd = true;
                    break;
                default:
                    // An unknown critical chunk (upper-case first letter) means the image cannot be drawn without it.
                    if (char.IsAsciiLetterUpper(name[0])) return Broken(header);
                    break; // ancillary: dropped
            }
        }
        // Bytes after IEND are dropped with the metadata.
        if (!RowsAreComplete(header!, imageData)) return Broken(header);

        var clean = Write(header!, palette, transparency, imageData.ToArray());
        if (clean.Length > MaxStoredBytes) return (null, LogoRefusal.TooLarge, header!.Width, header.Height);
        return (new CleanLogo(clean, header!.Width, header.Height), null, header.Width, header.Height);
    }

    /// <summary>The pixel size from a PNG's header, or null when the bytes are not a PNG (for what is stored, already checked).</summary>
    public static (int Width, int Height)? SizeOf(ReadOnlySpan<byte> file) =>
        file.Length >= 33 && file[..8].SequenceEqual(Signature) && Header.Read(file.Slice(16, 13)) is { } h ? (h.Width, h.Height) : null;

    private static (CleanLogo?, LogoRefusal?, int, int) Broken(Header? header) => (null, LogoRefusal.Broken, header?.Width ?? 0, header?.Height ?? 0);

    private static bool TransparencyFits(Header header, byte[]? palette, int length) => header.ColorType switch
    {
        0 => length == 2,
        2 => length == 6,
        3 => palette is not null && length >= 1 && length <= palette.Length / 3,
        _ => false, // colour types with an alpha channel carry no tRNS
    };

    /// <summary>
    /// Inflates the image data and checks it holds exactly the promised rows, each starting with a filter type
    /// 0–4. Reads at most one byte past the expected size, so a bomb is never inflated further than the pixel limit allows.
    /// </summary>
    private static bool RowsAreComplete(Header header, MemoryStream imageData)
    {
        var rows = new List<int>(); // the byte length of each row, filter byte excluded, in stream order
        if (header.Interlaced)
        {
            foreach (var (x, y, dx, dy) in Adam7)
            {
                var w = header.Width > x ? (header.Width - x + dx - 1) / dx : 0;
                var h = header.Height > y ? (header.Height - y + dy - 1) / dy : 0;
                if (w == 0) continue; // an empty pass has no rows at all, not even filter bytes
                for (var i = 0; i < h; i++) rows.Add(header.RowBytes(w));
            }
        }
        else
        {
            for (var i = 0; i < header.Height; i++) rows.Add(header.RowBytes(header.Width));
        }
        var expected = rows.Sum(r => (long)r + 1);
        var inflated = new byte[expected + 1];
        imageData.Position = 0;
        try
        {
            using var zlib = new ZLibStream(imageData, CompressionMode.Decompress);
            var read = 0;
            while (read < inflated.Length)
            {
                var n = zlib.Read(inflated, read, inflated.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read != expected) return false; // truncated (fewer) or more data than the header allows
        }
        catch (InvalidDataException)
        {
            return false;
        }
        var offset = 0;
        foreach (var row in rows)
        {
            if (inflated[offset] > 4) return false;
            offset += row + 1;
        }
        return true;
    }

    private static byte[] Write(Header header, byte[]? palette, byte[]? transparency, byte[] imageData)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        WriteChunk(output, "IHDR", header.Bytes);
        if (palette is not null) WriteChunk(output, "PLTE", palette);
        if (transparency is not null) WriteChunk(output, "tRNS", transparency);
        WriteChunk(output, "IDAT", imageData);
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        var typed = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Of(typed));
        output.Write(word);
    }

    private sealed record Header(int Width, int Height, byte BitDepth, byte ColorType, bool Interlaced, byte[] Bytes)
    {
        public static Header? Read(ReadOnlySpan<byte> data)
        {
            if (data.Length != 13) return null;
            var width = BinaryPrimitives.ReadUInt32BigEndian(data);
            var height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
            byte depth = data[8], color = data[9], compression = data[10], filter = data[11], interlace = data[12];
            if (width is 0 or > int.MaxValue || height is 0 or > int.MaxValue) return null;
            if (compression != 0 || filter != 0 || interlace > 1) return null;
            var valid = color switch
            {
                0 => depth is 1 or 2 or 4 or 8 or 16,
                3 => depth is 1 or 2 or 4 or 8,
                2 or 4 or 6 => depth is 8 or 16,
                _ => false,
            };
            return valid ? new Header((int)width, (int)height, depth, color, interlace == 1, data.ToArray()) : null;
        }

        private int Channels => ColorType switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 };

        public int RowBytes(int pixels) => (int)(((long)pixels * Channels * BitDepth + 7) / 8);
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, as in zlib); System.IO.Hashing would be a package for 15 lines.</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            var c = (uint)n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Of(ReadOnlySpan<byte> bytes)
        {
            var c = 0xFFFFFFFFu;
            foreach (var b in bytes) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
            return c ^ 0xFFFFFFFFu;
        }
    }
}
