using System.IO.Compression;
using System.Text;
using NewsletterMigrator.Common;
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

    /// <param name="prepared">As for <see cref="Preview"/>: the spool's copy passed <see cref="Prepare"/>, so a workbook is not inflated twice.</param>
    public static IEnumerable<ContactRow> Read(Stream stream, string fileName, ImportMapping? mapping = null, ReadLimits? limits = null, bool prepared = false) =>
        Guard(ReadRows(stream, fileName, mapping, limits ?? ReadLimits.Default, prepared));

    /// <summary>
    /// Every non-blank record of a list with all its fields, the header included (tell it by
    /// <see cref="HeaderNames.IsHeader"/>): for opt-out lists, whose rows hold a number or an address (C36).
    /// A vCard gives one record per card with its number.
    /// </summary>
    public static IEnumerable<TableRecord> ReadRecords(Stream stream, string fileName, ReadLimits? limits = null) =>
        Guard(ReadRecordsCore(stream, fileName, limits ?? ReadLimits.Default));

    private static IEnumerable<TableRecord> ReadRecordsCore(Stream stream, string fileName, ReadLimits limits)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (s, _, format, budget, _) = Resolve(stream, fileName, owned, limits);
            if (format == ListFormat.VCard)
            {
                using var text = TextDecoding.Reader(s, TextDecoding.Detect(s));
                foreach (var card in VCardReader.Read(text)) yield return new TableRecord(card.Line, [card.PreferredPhone ?? ""]);
                yield break;
            }
            foreach (var record in Records(s, format, null, budget, ImportLimits.MaxCellChars))
            {
                if (!record.Fields.All(string.IsNullOrWhiteSpace)) yield return record;
            }
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>
    /// The format, the detected mapping and the first rows, for the editor to check before importing. Cells are
    /// cut to <see cref="ImportLimits.PreviewCellChars"/> for the page; a list without entries is refused.
    /// </summary>
    /// <param name="prepared">
    /// The file passed <see cref="Prepare"/> unchanged (the spool's copy): a workbook's parts were counted then, so
    /// they are not inflated once more before parsing; they are still counted while parsed.
    /// </param>
    public static ListPreview Preview(Stream stream, string fileName, string? sheet = null, ReadLimits? limits = null, bool prepared = false)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (s, _, format, budget, _) = Resolve(stream, fileName, owned, limits ?? ReadLimits.Default, counted: prepared);
            var sheets = format == ListFormat.Xlsx ? XlsxReader.SheetNames(s, budget!) : [];
            if (format == ListFormat.VCard)
            {
                var cards = VCardReader.Read(TextDecoding.Reader(s, TextDecoding.Detect(s))).Take(PreviewRows)
                    .Select(c => new TableRecord(c.Line, [Shown(c.Phone ?? ""), Shown(c.Name ?? "")])).ToList();
                if (cards.Count == 0) throw Empty();
                return new ListPreview(format, ["TEL", "FN"], cards, null, sheets);
            }
            // One character more than shown, so Shown still marks a cut cell with "…".
            var records = Records(s, format, sheet, budget, ImportLimits.PreviewCellChars + 1).Take(PreviewRows + 1).ToList();
            var detected = records.Count == 0 ? null : Detect(records[0].Fields, sheet);
            var rows = records.Skip(detected?.HasHeader == true ? 1 : 0).Take(PreviewRows)
                .Select(r => r with { Fields = r.Fields.Select(Shown).ToArray() }).ToList();
            if (rows.Count == 0) throw Empty();
            var headers = detected!.HasHeader ? records[0].Fields.Select(Shown).ToArray() : records[0].Fields.Select((_, i) => $"#{i + 1}").ToArray();
            return new ListPreview(format, headers, rows, detected.PhoneColumn >= 0 ? detected : null, sheets);
        }
        catch (Exception ex) when (IsReadFailure(ex))
        {
            throw Unreadable(ex);
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>
    /// Unpacks a ZIP holding one list into <paramref name="unpackTo"/> (the list's name is returned, or null when
    /// the file is no such ZIP: a list or a workbook is read as it is), counts a workbook's parts and names its
    /// sheets. The import spool calls it once per upload, so the preview neither unpacks nor counts again
    /// (<c>prepared</c>); what it refuses, the preview and the import would refuse.
    /// </summary>
    public static PreparedList Prepare(Stream stream, string fileName, string unpackTo, ReadLimits limits)
    {
        var owned = new List<IDisposable>();
        try
        {
            var resolved = Resolve(stream, fileName, owned, limits, unpackTo: unpackTo);
            var sheets = resolved.Format == ListFormat.Xlsx ? XlsxReader.SheetNames(resolved.Stream, resolved.Budget!) : [];
            return new PreparedList(resolved.Unpacked ? resolved.Name : null, sheets);
        }
        catch (Exception ex) when (IsReadFailure(ex))
        {
            throw Unreadable(ex);
        }
        finally
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    /// <summary>No entries at all: an empty file, an empty ZIP, a header alone. An import of it would record nothing but itself.</summary>
    internal static ImportFormatException Empty() => new("Import_Empty", "The file holds no entries (it is empty or has only a header): nothing was imported.");

    private static ImportFormatException Unreadable(Exception ex) => new("Import_Unreadable", "The file cannot be read.", ex);

    private static string Shown(string value) =>
        value.Length <= ImportLimits.PreviewCellChars ? value : string.Concat(value.AsSpan(0, ImportLimits.PreviewCellChars), "…");

    private static IEnumerable<ContactRow> ReadRows(Stream stream, string fileName, ImportMapping? mapping, ReadLimits limits, bool prepared)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (s, _, format, budget, _) = Resolve(stream, fileName, owned, limits, counted: prepared);
            if (format == ListFormat.VCard)
            {
                using var text = TextDecoding.Reader(s, TextDecoding.Detect(s));
                foreach (var card in VCardReader.Read(text)) yield return card;
                yield break;
            }
            var map = mapping;
            var first = true;
            foreach (var record in Records(s, format, mapping?.Sheet, budget, ImportLimits.MaxCellChars))
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
                yield return map!.PhoneFields is { } phones ? SeveralPhones(record.Line, fields, phones, ComposeName(fields, map))
                    : new ContactRow(record.Line, Field(fields, map.PhoneColumn), ComposeName(fields, map));
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

    /// <summary>The list to read: its stream, name and format; an archive's inflation budget; whether it came out of a ZIP.</summary>
    private sealed record Resolved(Stream Stream, string Name, string Format, InflationBudget? Budget, bool Unpacked);

    /// <summary>Makes the stream seekable, unpacks a ZIP and tells the format by content first, extension second.</summary>
    /// <param name="counted">A workbook's parts were counted before (<see cref="Prepare"/>): not inflated again before parsing.</param>
    private static Resolved Resolve(Stream stream, string fileName, List<IDisposable> owned, ReadLimits limits, int depth = 0, string? unpackTo = null, bool counted = false)
    {
        var s = Seekable(stream, owned);
        Span<byte> magic = stackalloc byte[4];
        var n = s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        s.Position = 0;
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        ZipArchive? zip = null;
        if (n == 4 && (magic.SequenceEqual("PK\x03\x04"u8) || magic.SequenceEqual("PK\x05\x06"u8)))
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
            var budget = new InflationBudget(s.Length, limits);
            if (zip.Entries.Any(e => e.FullName.Equals("xl/workbook.xml", StringComparison.OrdinalIgnoreCase)))
            {
                // Every part is inflated and counted once before any XML is parsed: inflating alone costs a tenth of
                // parsing, so a workbook bomb is refused for that tenth (a 1 GiB table of short shared strings took
                // 3.8 s and 400 MB when it was counted while being parsed). The package index, which the OpenXML
                // SDK reads whole as it opens, gets a tighter limit.
                if (!counted)
                    foreach (var part in zip.Entries)
                        budget.Drain(part.Open(), IsPackageIndex(part) ? ImportLimits.MaxPackageIndexBytes : limits.MaxUnpackedBytes);
                // The parts are counted again while parsed: the same bytes, so this only guards the reading code.
                return new Resolved(s, fileName, ListFormat.Xlsx, new InflationBudget(s.Length, limits), depth > 0);
            }
            if (depth > 0) throw new ImportFormatException("Import_ZipNotOneFile", "A ZIP inside a ZIP is not supported.");
            var files = zip.Entries.Where(e => e.Name.Length > 0 && !e.FullName.StartsWith("__MACOSX/", StringComparison.Ordinal) && !e.Name.StartsWith('.')).ToList();
            if (files.Count == 0) throw Empty();
            if (files.Count != 1) throw new ImportFormatException("Import_ZipNotOneFile", "The ZIP archive must hold exactly one list.");
            var entry = files[0];
            var target = unpackTo is null ? ScratchFile.Create()
                : new FileStream(unpackTo, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            owned.Add(target);
            // Counted while inflating, whatever the entry's header declares.
            using (var source = budget.Watch(entry.Open())) source.CopyTo(target, 1 << 16);
            target.Position = 0;
            return Resolve(target, entry.Name, owned, limits, depth + 1);
        }
        if (s.Length == 0) throw Empty();
        if (extension is ".xlsx" or ".xlsm") throw new ImportFormatException("Import_Unreadable", "The workbook is damaged.");
        if (extension is ".xls" or ".ods" or ".numbers" or ".pdf" or ".doc" or ".docx")
            throw new ImportFormatException("Import_UnsupportedFormat", "This file type is not supported.");
        var unpacked = depth > 0;
        if (extension is ".vcf" or ".vcard") return new Resolved(s, fileName, ListFormat.VCard, null, unpacked);
        if (LooksLikeVCard(s)) return new Resolved(s, fileName, ListFormat.VCard, null, unpacked);
        return new Resolved(s, fileName, extension == ".txt" ? ListFormat.Text : ListFormat.Csv, null, unpacked);
    }

    private static bool IsPackageIndex(ZipArchiveEntry entry) =>
        entry.FullName.Equals("[Content_Types].xml", StringComparison.OrdinalIgnoreCase) || entry.FullName.EndsWith(".rels", StringComparison.OrdinalIgnoreCase);

    /// <summary>The records of a table; each cell cut to <paramref name="cellChars"/> as it is read (plain text has one short value per line).</summary>
    private static IEnumerable<TableRecord> Records(Stream s, string format, string? sheet, InflationBudget? budget, int cellChars) => format switch
    {
        ListFormat.Xlsx => XlsxReader.Read(s, sheet, budget!, cellChars),
        ListFormat.Text => PlainText(s),
        _ => Csv(s, Math.Min(cellChars, ImportLimits.MaxCellChars)),
    };

    private static Stream Seekable(Stream stream, List<IDisposable> owned)
    {
        if (stream.CanSeek) return stream;
        var spool = ScratchFile.Create();
        owned.Add(spool);
        stream.CopyTo(spool);
        spool.Position = 0;
        return spool;
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
        var lines = new BoundedLineReader(reader);
        var line = 0;
        while (lines.ReadLine() is { } raw)
        {
            line++;
            var value = raw.Trim();
            if (value.Length == 0 || value.StartsWith('#')) continue;
            yield return new TableRecord(line, [value]);
        }
    }

    private static IEnumerable<TableRecord> Csv(Stream s, int cellChars)
    {
        var encoding = TextDecoding.Detect(s);
        char delimiter;
        using (var probe = TextDecoding.Reader(s, encoding)) delimiter = DetectDelimiter(new BoundedLineReader(probe).ReadLine() ?? "");
        s.Position = 0;
        using var text = TextDecoding.Reader(s, encoding);
        var options = new CsvDataReaderOptions
        {
            Delimiter = delimiter,
            HasHeaders = false,
            BufferSize = 1 << 16,
            // A record longer than the buffer ends in CsvRecordTooLargeException: the buffer is the line limit.
            MaxBufferSize = ImportLimits.MaxLineChars,
        };
        using var reader = CsvDataReader.Create(text, options);
        var line = 1;
        while (NextRecord(reader))
        {
            if (reader.RowFieldCount > ImportLimits.MaxColumns) throw BoundedLineReader.TooManyColumns();
            var fields = new string[reader.RowFieldCount];
            var breaks = 0;
            for (var i = 0; i < fields.Length; i++)
            {
                var field = reader.GetFieldSpan(i);
                breaks += field.Count('\n');
                fields[i] = field.Length <= cellChars ? field.ToString() : field[..cellChars].ToString();
            }
            // The line number where the record starts; quoted line breaks push the next one down.
            yield return new TableRecord(line, fields);
            line += 1 + breaks;
        }
    }

    private static bool NextRecord(CsvDataReader reader)
    {
        try { return reader.Read(); }
        catch (CsvRecordTooLargeException) { throw BoundedLineReader.LineTooLong(); }
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

    /// <summary>
    /// A row of an export with several phone columns (or a type column beside one): each non-empty value with its label (from
    /// the type column when it has one, else from the header) and where it stood. A row with a single plain value is
    /// an ordinary row.
    /// </summary>
    private static ContactRow SeveralPhones(int line, string[] fields, IReadOnlyList<PhoneField> phones, string? name)
    {
        List<PhoneCandidate>? candidates = null;
        foreach (var phone in phones)
        {
            var value = Field(fields, phone.Column)?.Trim();
            if (string.IsNullOrEmpty(value)) continue;
            var type = Field(fields, phone.TypeColumn)?.Trim();
            var label = string.IsNullOrEmpty(type) ? phone.Label : PhoneChoice.LabelOf(type) is var typed && typed != PhoneLabel.Unlabelled ? typed : PhoneLabel.Other;
            (candidates ??= new List<PhoneCandidate>(phones.Count)).Add(new PhoneCandidate(value, label, string.IsNullOrEmpty(type) ? phone.Header : $"{phone.Header} ({type})"));
        }
        if (candidates is null) return new ContactRow(line, null, name);
        // One value, not split later (a Google cell " ::: " keeps its type as a candidate): as plain as a one-column list.
        if (candidates.Count == 1 && !PhoneChoice.MayHoldSeveral(candidates[0].Value)) return new ContactRow(line, candidates[0].Value, name);
        return new ContactRow(line, ContactRow.Joined(candidates), name, candidates);
    }

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

/// <summary>What <see cref="ListReader.Prepare"/> found: the name of a ZIP's list it unpacked (or null), a workbook's sheets.</summary>
public sealed record PreparedList(string? ListName, IReadOnlyList<string> Sheets);
