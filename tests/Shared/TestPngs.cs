using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NewsletterMigrator.Testing;

/// <summary>
/// PNG files built byte by byte for the logo tests: real images any browser draws, with metadata chunks to strip,
/// and the broken variants an editor's upload can turn into. Written here so the tests need no image library.
/// </summary>
public static class TestPngs
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>
    /// An RGBA logo with a text chunk, an EXIF chunk and a time stamp, as drawing programs save them. The pixels are
    /// a dark bar with a lighter stripe; <paramref name="noise"/> makes them incompressible, for a file of a wanted size.
    /// </summary>
    public static byte[] Logo(int width = 160, int height = 40, bool metadata = true, bool noise = false, bool interlaced = false)
    {
        var chunks = new List<(string, byte[])> { ("IHDR", Header(width, height, 8, 6, interlaced)) };
        if (metadata)
        {
            chunks.Add(("tEXt", Encoding.Latin1.GetBytes("Author\0Erika Mustermann, Tagblatt Grafik")));
            chunks.Add(("eXIf", Encoding.Latin1.GetBytes("MM\0*GPS 52.52N 13.40E secret-location")));
            chunks.Add(("tIME", [0x07, 0xEA, 11, 30, 12, 0, 0]));
        }
        chunks.Add(("IDAT", Compress(Rows(width, height, interlaced, noise))));
        chunks.Add(("IEND", []));
        return Build(chunks);
    }

    /// <summary>A file whose IHDR promises this size; the pixel data is one plain colour and compresses to almost nothing (a "PNG bomb").</summary>
    public static byte[] Huge(int width, int height)
    {
        var raw = new byte[(long)height * (1 + width * 4)];
        return Build([("IHDR", Header(width, height, 8, 6, false)), ("IDAT", Compress(raw)), ("IEND", [])]);
    }

    /// <summary>The chunks of a PNG, by type, in file order.</summary>
    public static List<string> ChunkTypes(byte[] png)
    {
        var types = new List<string>();
        for (var pos = 8; pos + 12 <= png.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            types.Add(Encoding.ASCII.GetString(png, pos + 4, 4));
            pos += 12 + length;
        }
        return types;
    }

    /// <summary>The same file with the CRC of its image data chunk changed, the data itself intact.</summary>
    public static byte[] WithBadCrc(byte[] png)
    {
        var copy = (byte[])png.Clone();
        var idat = IndexOf(copy, "IDAT");
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(copy.AsSpan(idat - 4));
        copy[idat + 4 + length + 3] ^= 0xFF; // the last byte of the chunk's CRC
        return copy;
    }

    /// <summary>A well-formed file (every CRC right) whose image data holds only half the rows its header promises.</summary>
    public static byte[] WithMissingRows(int width = 160, int height = 40) =>
        Build([("IHDR", Header(width, height, 8, 6, false)), ("IDAT", Compress(Rows(width, height / 2, false, false))), ("IEND", [])]);

    /// <summary>An upload cut off in the middle of its image data.</summary>
    public static byte[] Truncated(byte[] png) => png[..(IndexOf(png, "IDAT") + 20)];

    private static int IndexOf(byte[] png, string type) =>
        png.AsSpan().IndexOf(Encoding.ASCII.GetBytes(type));

    private static byte[] Header(int width, int height, byte depth, byte color, bool interlaced)
    {
        var h = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(h, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4), (uint)height);
        h[8] = depth;
        h[9] = color;
        h[12] = (byte)(interlaced ? 1 : 0);
        return h;
    }

    private static byte[] Rows(int width, int height, bool interlaced, bool noise)
    {
        var random = new Random(17);
        var output = new MemoryStream();
        (int X, int Y, int DX, int DY)[] passes = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)];
        foreach (var (x0, y0, dx, dy) in passes)
        {
            if (width <= x0) continue;
            for (var y = y0; y < height; y += dy)
            {
                output.WriteByte(0); // filter: none
                for (var x = x0; x < width; x += dx)
                {
                    var stripe = y > height / 3 && y < 2 * height / 3 && x % 20 < 12;
                    byte[] pixel = noise
                        ? [(byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 255]
                        : stripe ? [255, 191, 71, 255] : [31, 58, 95, 255];
                    output.Write(pixel);
                }
            }
        }
        return output.ToArray();
    }

    private static byte[] Compress(byte[] raw)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true)) zlib.Write(raw);
        return output.ToArray();
    }

    private static byte[] Build(IEnumerable<(string Type, byte[] Data)> chunks)
    {
        var output = new MemoryStream();
        output.Write(Signature);
        foreach (var (type, data) in chunks)
        {
            var word = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
            output.Write(word);
            var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            output.Write(typed);
            BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typed));
            output.Write(word);
        }
        return output.ToArray();
    }

    private static uint Crc(byte[] bytes)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            c ^= b;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFFu;
    }
}
