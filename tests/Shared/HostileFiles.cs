using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NewsletterMigrator.Testing;

/// <summary>
/// The hostile import files of issue 13 (point 2), built in milliseconds and small on disk: a zip entry's
/// deflate data is one compressed run of a repeated pattern, written once and repeated, so a GiB of
/// content costs about a MB. Shared by the tests and the benchmark (bench/NewsletterMigrator.Bench).
/// </summary>
public static class HostileFiles
{
    public const long GiB = 1L << 30;

    /// <summary>One zip entry: <paramref name="Prefix"/>, then <paramref name="Pattern"/> repeated for <paramref name="RepeatedBytes"/>, then <paramref name="Suffix"/>.</summary>
    public sealed record Entry(string Name, string Prefix, string Pattern, long RepeatedBytes, string Suffix = "")
    {
        /// <summary>The size the headers declare; by default the real one. A bomb may declare anything.</summary>
        public long? DeclaredLength { get; init; }

        public long Length => Encoding.UTF8.GetByteCount(Prefix) + RepeatedBytes / Encoding.UTF8.GetByteCount(Pattern) * Encoding.UTF8.GetByteCount(Pattern) + Encoding.UTF8.GetByteCount(Suffix);
    }

    /// <summary>A zip of one list: the same number on every line, <paramref name="unpacked"/> bytes when unpacked.</summary>
    public static byte[] ZipOfRepeatedNumber(long unpacked) => Zip(new Entry("nummern.txt", "", "0160 1111111\n", unpacked));

    /// <summary>
    /// A workbook whose one sheet refers to shared string 0, while the shared-string table holds
    /// <paramref name="sharedStrings"/> bytes: one endless string, or (<paramref name="manySmall"/>) millions of short ones.
    /// </summary>
    /// <param name="padding">Characters of random text in one more part, which makes the file larger on disk (lowers its compression ratio).</param>
    /// <param name="stringChars">The length of each of the many strings (by default a 12-character phone number).</param>
    public static byte[] XlsxWithSharedStrings(long sharedStrings, bool manySmall = false, int padding = 0, int stringChars = 0) => Zip(
        [.. WorkbookParts(SheetReferringToString0, SharedStrings(sharedStrings, manySmall, stringChars)), .. Padding(padding)]);

    /// <summary>
    /// A workbook whose one sheet has <paramref name="rows"/> rows of <paramref name="columns"/> inline-string cells
    /// of <paramref name="cellChars"/> characters each (the sheet's XML is one row repeated).
    /// </summary>
    public static byte[] XlsxWithWideRows(int rows, int columns, int cellChars, int padding = 0)
    {
        var row = new StringBuilder("<row>");
        var cell = $"<c t=\"inlineStr\"><is><t>{new string('7', cellChars)}</t></is></c>";
        for (var c = 0; c < columns; c++) row.Append(cell);
        var pattern = row.Append("</row>").ToString();
        var sheet = new Entry("xl/worksheets/sheet1.xml", """<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>""",
            pattern, (long)Encoding.UTF8.GetByteCount(pattern) * rows, "</sheetData></worksheet>");
        return Zip([.. WorkbookParts(sheet, SharedStrings(0, manySmall: true, 0)), .. Padding(padding)]);
    }

    private static Entry[] Padding(int chars) => chars > 0 ? [new Entry("xl/media/rauschen.txt", Noise(chars), " ", 0)] : [];

    private static string Noise(int chars)
    {
        var random = new Random(13);
        var bytes = new byte[chars * 3 / 4 + 3];
        random.NextBytes(bytes);
        return Convert.ToBase64String(bytes)[..chars];
    }

    private static readonly Entry SheetReferringToString0 =
        Small("xl/worksheets/sheet1.xml", """<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>""");

    private static Entry SharedStrings(long bytes, bool manySmall, int stringChars) => manySmall
        ? new Entry("xl/sharedStrings.xml", """<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">""",
            stringChars > 0 ? $"<si><t>{new string('7', stringChars)}</t></si>" : "<si><t>0160 1111111</t></si>", bytes, "</sst>")
        : new Entry("xl/sharedStrings.xml", """<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>""", "0160 1111111 ", bytes, "</t></si></sst>");

    private static Entry[] WorkbookParts(Entry sheet, Entry sharedStrings) =>
    [
        Small("[Content_Types].xml", """<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"""),
        Small("_rels/.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""),
        Small("xl/workbook.xml", """<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Liste" sheetId="1" r:id="rId1"/></sheets></workbook>"""),
        Small("xl/_rels/workbook.xml.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"""),
        sheet,
        sharedStrings,
    ];

    /// <summary>A list of one line without a line break: <paramref name="bytes"/> of digits and spaces.</summary>
    public static void WriteSingleLine(string path, long bytes) => WriteRepeated(path, "", "0160 1111111 ", bytes);

    /// <summary>A header and one row of <paramref name="columns"/> columns.</summary>
    public static byte[] ManyColumns(int columns)
    {
        var text = new StringBuilder("Telefon;Name");
        for (var i = 2; i < columns; i++) text.Append(";x");
        text.Append("\n0160 1111111;Anna");
        for (var i = 2; i < columns; i++) text.Append(";1");
        return Encoding.UTF8.GetBytes(text.Append('\n').ToString());
    }

    public static void WriteRepeated(string path, string prefix, string pattern, long bytes)
    {
        using var file = File.Create(path);
        file.Write(Encoding.UTF8.GetBytes(prefix));
        var block = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(pattern, Math.Max(1, (1 << 20) / pattern.Length))));
        for (long written = 0; written < bytes; written += block.Length) file.Write(block, 0, (int)Math.Min(block.Length, bytes - written));
    }

    private static Entry Small(string name, string content) => new(name, content, " ", 0);

    /// <summary>
    /// A zip written by hand (local headers, central directory) around deflate data built from self-contained
    /// pieces: the prefix, one MB of the pattern compressed once and repeated, the suffix as the final block.
    /// Each piece is sync-flushed from an empty history, so it refers to nothing before it and may follow anything.
    /// The CRC is left at 0: nobody reaches the end of a bomb, and a reader must refuse it before.
    /// </summary>
    public static byte[] Zip(params Entry[] entries)
    {
        using var zip = new MemoryStream();
        var central = new MemoryStream();
        foreach (var entry in entries)
        {
            var offset = zip.Position;
            var data = Deflate(entry);
            var name = Encoding.UTF8.GetBytes(entry.Name);
            var crc = entry.Length <= MaxCheckedBytes ? Crc32(entry) : 0u;
            var size = (uint)Math.Min(entry.DeclaredLength ?? entry.Length, uint.MaxValue - 1);
            WriteHeader(zip, 0x04034b50, local: true, crc, (uint)data.Length, size, name, 0);
            zip.Write(data);
            WriteHeader(central, 0x02014b50, local: false, crc, (uint)data.Length, size, name, (uint)offset);
        }
        var centralOffset = zip.Position;
        central.Position = 0;
        central.CopyTo(zip);
        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)entries.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)entries.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)central.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], (uint)centralOffset);
        zip.Write(end);
        return zip.ToArray();
    }

    private static byte[] Deflate(Entry entry)
    {
        using var data = new MemoryStream();
        data.Write(Piece(Encoding.UTF8.GetBytes(entry.Prefix), final: false));
        var pattern = Encoding.UTF8.GetBytes(entry.Pattern);
        var repeats = entry.RepeatedBytes / pattern.Length;
        var perBlock = Math.Max(1, (1 << 20) / pattern.Length);
        if (repeats > 0)
        {
            var block = Piece(Repeat(pattern, (int)Math.Min(perBlock, repeats)), final: false);
            for (var i = 0L; i < repeats / perBlock; i++) data.Write(block);
            if (repeats % perBlock > 0) data.Write(Piece(Repeat(pattern, (int)(repeats % perBlock)), final: false));
        }
        data.Write(Piece(Encoding.UTF8.GetBytes(entry.Suffix), final: true));
        return data.ToArray();
    }

    private static byte[] Repeat(byte[] pattern, int times)
    {
        var bytes = new byte[pattern.Length * times];
        for (var i = 0; i < times; i++) pattern.CopyTo(bytes, i * pattern.Length);
        return bytes;
    }

    /// <summary>Raw deflate of <paramref name="content"/> from an empty history: sync-flushed (byte-aligned, not final) or finished.</summary>
    private static byte[] Piece(byte[] content, bool final)
    {
        var buffer = new MemoryStream();
        var deflate = new DeflateStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true);
        deflate.Write(content);
        deflate.Flush(); // Z_SYNC_FLUSH: ends on a byte boundary with an empty stored block
        var flushed = buffer.ToArray();
        deflate.Dispose();
        return final ? buffer.ToArray() : flushed;
    }

    private static void WriteHeader(Stream target, uint signature, bool local, uint crc, uint compressed, uint size, byte[] name, uint offset)
    {
        var header = new byte[local ? 30 : 46];
        var s = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, signature);
        var at = 4;
        if (!local) { BinaryPrimitives.WriteUInt16LittleEndian(s[at..], 20); at += 2; } // version made by
        BinaryPrimitives.WriteUInt16LittleEndian(s[at..], 20); // version needed
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 2)..], 0x0800); // flags: UTF-8 names
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 4)..], 8); // deflate
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 6)..], 0); // time
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 8)..], 0x5A21); // date: 2025-01-01
        BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 10)..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 14)..], compressed);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 18)..], size);
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 22)..], (ushort)name.Length);
        if (!local) BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 36)..], offset); // local header offset (after comment length, disk, attributes)
        target.Write(header);
        target.Write(name);
    }

    /// <summary>Entries up to this size get their real CRC (a reader checks it at the end); bigger ones are bombs.</summary>
    private const long MaxCheckedBytes = 64L << 20;

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(Entry entry)
    {
        var crc = 0xFFFFFFFFu;
        void Update(byte[] bytes)
        {
            foreach (var b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        Update(Encoding.UTF8.GetBytes(entry.Prefix));
        var pattern = Encoding.UTF8.GetBytes(entry.Pattern);
        for (var i = 0L; i < entry.RepeatedBytes / pattern.Length; i++) Update(pattern);
        Update(Encoding.UTF8.GetBytes(entry.Suffix));
        return ~crc;
    }
}
