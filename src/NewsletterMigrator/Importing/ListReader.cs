using System.IO.Compression;
using System.Text;
using Sylvan.Data.Csv;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Reads CSV (separator and encoding detected), XLSX, vCard and plain text lists, or a ZIP holding
/// one such file, into contact rows. Everything streams: only the rows being processed are in memory.
/// Any broken file ends in an <see cref="ImportFormatException"/>, never in another exception.
/// </summary>
public static class ListReader
{
    private const int PreviewRows = 10;
    /// <summary>A ZIP entry larger than this is refused (a zip bomb would otherwise fill the disk).</summary>
    private const long MaxUnpackedBytes = 2L * 1024 * 1024 * 1024;

    public static IEnumerable<ContactRow> Read(Stream stream, string fileName, ImportMapping? mapping = null) =>
        Guard(ReadRows(stream, fileName, mapping));

    /// <summary>
    /// Every non-blank record of a list with all its fields, the header included (tell it by
    /// <see cref="HeaderNames.IsHeader"/>): for opt-out lists, whose rows hold a number or an address (C36).
    /// A vCard gives one record per card with its number.
    /// </summary>
    public static IEnumerable<TableRecord> ReadRecords(Stream stream, string fileName) => Guard(ReadRecordsCore(stream, fileName));

    private static IEnumerable<TableRecord> ReadRecordsCore(Stream stream, string fileName)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (s, _, format) = Resolve(stream, fileName, owned);
            if (format == ListFormat.VCard)
            {
                using var text = TextDecoding.Reader(s, TextDecoding.Detect(s));
                foreach (var card in VCardReader.Read(text)) yield return new TableRecord(card.Line, [card.Phone ?? ""]);
                yield break;
            }
            foreach (var record in Records(s, format, null))
            {
                if (!record.Fields.All(string.IsNullOrWhiteSpace)) yield return record;
            }
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>The format, the detected mapping and the first rows, for the editor to check before importing.</summary>
    public static ListPreview Preview(Stream stream, string fileName, string? sheet = null)
    {
        try
        {
            return WithFile(stream, fileName, (s, name, format) =>
            {
                var sheets = format == ListFormat.Xlsx ? XlsxReader.SheetNames(s) : [];
                if (format == ListFormat.VCard)
                {
                    var cards = VCardReader.Read(TextDecoding.Reader(s, TextDecoding.Detect(s))).Take(PreviewRows)
                        .Select(c => new TableRecord(c.Line, [c.Phone ?? "", c.Name ?? ""])).ToList();
                    return new ListPreview(format, ["TEL", "FN"], cards, null, sheets);
                }
                var records = Records(s, format, sheet).Take(PreviewRows + 1).ToList();
                if (records.Count == 0) return new ListPreview(format, [], [], new ImportMapping(0, HasHeader: false, Sheet: sheet), sheets);
                var detected = Detect(records[0].Fields, sheet);
                var headers = detected.HasHeader ? records[0].Fields : records[0].Fields.Select((_, i) => $"#{i + 1}").ToArray();
                var rows = records.Skip(detected.HasHeader ? 1 : 0).Take(PreviewRows).ToList();
                return new ListPreview(format, headers, rows, detected.PhoneColumn >= 0 ? detected : null, sheets);
            });
        }
        catch (Exception ex) when (IsReadFailure(ex))
        {
            throw new ImportFormatException("Import_Unreadable", "The file cannot be read.", ex);
        }
    }

    private static IEnumerable<ContactRow> ReadRows(Stream stream, string fileName, ImportMapping? mapping)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (s, name, format) = Resolve(stream, fileName, owned);
            if (format == ListFormat.VCard)
            {
                using var text = TextDecoding.Reader(s, TextDecoding.Detect(s));
                foreach (var card in VCardReader.Read(text)) yield return card;
                yield break;
            }
            var map = mapping;
            var first = true;
            foreach (var record in Records(s, format, mapping?.Sheet))
            {
                if (first)
                {
                    first = false;
                    map ??= Detect(record.Fields, null);
                    if (map.PhoneColumn < 0) throw new ImportFormatException("Import_NoPhoneColumn", "No column holds phone numbers.");
                    if (map.HasHeader) continue;
                }
                var fields = record.Fields;
                if (fields.All(string.IsNullOrWhiteSpace)) continue;
                yield return new ContactRow(record.Line, Field(fields, map!.PhoneColumn), ComposeName(fields, map));
            }
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>A header row is recognised by its names; plain text never has one.</summary>
    private static ImportMapping Detect(string[] first, string? sheet) =>
        HeaderNames.IsHeader(first) ? HeaderNames.Detect(first, sheet) : HeaderNames.Headerless(first, sheet);

    private static T WithFile<T>(Stream stream, string fileName, Func<Stream, string, string, T> read)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (s, name, format) = Resolve(stream, fileName, owned);
            return read(s, name, format);
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>Makes the stream seekable, unpacks a ZIP and tells the format by content first, extension second.</summary>
    private static (Stream Stream, string Name, string Format) Resolve(Stream stream, string fileName, List<IDisposable> owned, int depth = 0)
    {
        var s = Seekable(stream, owned);
        Span<byte> magic = stackalloc byte[4];
        var n = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        s.Position = 0;
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        ZipArchive? zip = null;
        if (n == 4 && magic.SequenceEqual("PK\x03\x04"u8))
        {
            try { zip = new ZipArchive(s, ZipArchiveMode.Read, leaveOpen: true); }
            catch (InvalidDataException ex) when (extension is ".zip" or ".xlsx" or ".xlsm")
            {
                throw new ImportFormatException("Import_Unreadable", "The ZIP archive is damaged.", ex);
            }
            catch (InvalidDataException)
            {
                // Not a ZIP after all: read on as text, where binary content is recognised as such.
                s.Position = 0;
            }
        }
        if (zip is not null)
        {
            owned.Add(zip);
            if (zip.Entries.Any(e => e.FullName.Equals("xl/workbook.xml", StringComparison.OrdinalIgnoreCase)))
                return (s, fileName, ListFormat.Xlsx);
            if (depth > 0) throw new ImportFormatException("Import_ZipNotOneFile", "A ZIP inside a ZIP is not supported.");
            var files = zip.Entries.Where(e => e.Name.Length > 0 && !e.FullName.StartsWith("__MACOSX/", StringComparison.Ordinal) && !e.Name.StartsWith('.')).ToList();
            if (files.Count != 1) throw new ImportFormatException("Import_ZipNotOneFile", "The ZIP archive must hold exactly one list.");
            var entry = files[0];
            if (entry.Length > MaxUnpackedBytes) throw new ImportFormatException("Import_TooLarge", "The unpacked file is too large.");
            var spool = TempFile();
            owned.Add(spool);
            using (var source = entry.Open()) CopyLimited(source, spool, MaxUnpackedBytes);
            spool.Position = 0;
            return Resolve(spool, entry.Name, owned, depth + 1);
        }
        if (extension is ".xlsx" or ".xlsm") throw new ImportFormatException("Import_Unreadable", "The workbook is damaged.");
        if (extension is ".xls" or ".ods" or ".numbers" or ".pdf" or ".doc" or ".docx")
            throw new ImportFormatException("Import_UnsupportedFormat", "This file type is not supported.");
        if (extension is ".vcf" or ".vcard") return (s, fileName, ListFormat.VCard);
        if (LooksLikeVCard(s)) return (s, fileName, ListFormat.VCard);
        return (s, fileName, extension == ".txt" ? ListFormat.Text : ListFormat.Csv);
    }

    private static IEnumerable<TableRecord> Records(Stream s, string format, string? sheet) => format switch
    {
        ListFormat.Xlsx => XlsxReader.Read(s, sheet),
        ListFormat.Text => PlainText(s),
        _ => Csv(s),
    };

    private static Stream Seekable(Stream stream, List<IDisposable> owned)
    {
        if (stream.CanSeek) return stream;
        var spool = TempFile();
        owned.Add(spool);
        stream.CopyTo(spool);
        spool.Position = 0;
        return spool;
    }

    private static FileStream TempFile() =>
        new(Path.Combine(Path.GetTempPath(), $"nm-import-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);

    private static void CopyLimited(Stream source, Stream target, long limit)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = source.Read(buffer)) > 0)
        {
            total += read;
            if (total > limit) throw new ImportFormatException("Import_TooLarge", "The unpacked file is too large.");
            target.Write(buffer, 0, read);
        }
    }

    private static bool LooksLikeVCard(Stream s)
    {
        var buffer = new byte[512];
        var n = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        s.Position = 0;
        var head = Encoding.UTF8.GetString(buffer, 0, n).TrimStart('\uFEFF', ' ', '\r', '\n', '\t');
        // UTF-16 files: drop the NULs of ASCII characters before looking.
        if (head.Contains('\0')) head = head.Replace("\0", "").TrimStart('\uFFFD', '\uFEFF', ' ', '\r', '\n');
        return head.StartsWith("BEGIN:VCARD", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One number per line; blank lines and '#' comments are skipped.</summary>
    private static IEnumerable<TableRecord> PlainText(Stream s)
    {
        using var reader = TextDecoding.Reader(s, TextDecoding.Detect(s));
        var line = 0;
        while (reader.ReadLine() is { } raw)
        {
            line++;
            var value = raw.Trim();
            if (value.Length == 0 || value.StartsWith('#')) continue;
            yield return new TableRecord(line, [value]);
        }
    }

    private static IEnumerable<TableRecord> Csv(Stream s)
    {
        var encoding = TextDecoding.Detect(s);
        char delimiter;
        using (var probe = TextDecoding.Reader(s, encoding)) delimiter = DetectDelimiter(probe.ReadLine() ?? "");
        s.Position = 0;
        using var text = TextDecoding.Reader(s, encoding);
        var options = new CsvDataReaderOptions
        {
            Delimiter = delimiter,
            HasHeaders = false,
            BufferSize = 1 << 16,
            MaxBufferSize = 1 << 22,
        };
        using var reader = CsvDataReader.Create(text, options);
        var line = 1;
        while (reader.Read())
        {
            var fields = new string[reader.RowFieldCount];
            var breaks = 0;
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = reader.GetString(i);
                breaks += fields[i].AsSpan().Count('\n');
            }
            // The line number where the record starts; quoted line breaks push the next one down.
            yield return new TableRecord(line, fields);
            line += 1 + breaks;
        }
    }

    private static char DetectDelimiter(string header)
    {
        char[] candidates = [';', ',', '\t', '|'];
        var best = ',';
        var bestCount = 0;
        foreach (var c in candidates)
        {
            var count = 0;
            var quoted = false;
            foreach (var ch in header)
            {
                if (ch == '"') quoted = !quoted;
                else if (ch == c && !quoted) count++;
            }
            if (count > bestCount) (best, bestCount) = (c, count);
        }
        return best;
    }

    private static string? Field(string[] fields, int index) =>
        index >= 0 && index < fields.Length ? fields[index] : null;

    private static string? ComposeName(string[] fields, ImportMapping map)
    {
        var full = Field(fields, map.NameColumn);
        if (!string.IsNullOrWhiteSpace(full)) return full.Trim();
        var composed = $"{Field(fields, map.FirstNameColumn)} {Field(fields, map.LastNameColumn)}".Trim();
        return composed.Length == 0 ? null : composed;
    }

    /// <summary>Turns anything a damaged file makes a parser throw into the one exception the caller handles.</summary>
    private static IEnumerable<T> Guard<T>(IEnumerable<T> source)
    {
        using var enumerator = Wrap(source.GetEnumerator);
        while (true)
        {
            T current;
            try
            {
                if (!enumerator.MoveNext()) yield break;
                current = enumerator.Current;
            }
            catch (Exception ex) when (IsReadFailure(ex))
            {
                throw new ImportFormatException("Import_Unreadable", "The file cannot be read.", ex);
            }
            yield return current;
        }
    }

    private static IEnumerator<T> Wrap<T>(Func<IEnumerator<T>> create)
    {
        try { return create(); }
        catch (Exception ex) when (IsReadFailure(ex)) { throw new ImportFormatException("Import_Unreadable", "The file cannot be read.", ex); }
    }

    private static bool IsReadFailure(Exception ex) =>
        ex is not (ImportFormatException or OperationCanceledException or OutOfMemoryException);
}
