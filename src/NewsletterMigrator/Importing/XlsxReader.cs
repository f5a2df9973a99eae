using System.Globalization;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml.Packaging;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Reads one sheet of an XLSX workbook row by row. The OpenXML SDK finds the parts; their XML is read here
/// with a plain XmlReader over the counted part stream (<see cref="InflationBudget"/>), text in chunks of
/// at most <see cref="ImportLimits.MaxCellChars"/>, so neither a huge cell, a huge row nor a huge shared-string
/// table is ever built in memory: a 1 GiB shared-string table once took the process to 2.2 GB. A row holds at
/// most <see cref="ImportLimits.MaxLineChars"/> characters, as a CSV record: 1,000 cells of 32,767 characters
/// each made eleven preview rows cost 1 GB.
/// </summary>
internal static class XlsxReader
{
    private const string RelationshipNamespace = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    private const string StrictRelationshipNamespace = "http://purl.oclc.org/ooxml/officeDocument/relationships";

    private static readonly XmlReaderSettings Xml = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        CloseInput = true,
    };

    public static IReadOnlyList<string> SheetNames(Stream stream, InflationBudget budget)
    {
        using var document = Open(stream);
        return Sheets(document, budget).Select(s => s.Name).ToList();
    }

    /// <summary>The sheet's non-blank rows, each cell cut to <paramref name="cellChars"/> as it is read (the preview keeps few).</summary>
    public static IEnumerable<TableRecord> Read(Stream stream, string? sheetName, InflationBudget budget, int cellChars = ImportLimits.MaxCellChars)
    {
        using var document = Open(stream);
        var workbook = document.WorkbookPart ?? throw new ImportFormatException("Import_Unreadable", "The workbook has no workbook part.");
        var sheets = Sheets(document, budget);
        var sheet = sheetName is null ? sheets.FirstOrDefault() : sheets.FirstOrDefault(s => s.Name == sheetName);
        if (sheet is null)
            throw new ImportFormatException(sheetName is null ? "Import_Unreadable" : "Import_SheetNotFound", "The sheet does not exist.");
        if (workbook.GetPartById(sheet.RelationshipId) is not WorksheetPart part)
            throw new ImportFormatException("Import_Unreadable", "The sheet is not a worksheet.");
        var strings = SharedStrings(workbook, budget);

        using var reader = XmlReader.Create(budget.Watch(part.GetStream(FileMode.Open, FileAccess.Read)), Xml);
        var text = new CellText(Math.Min(cellChars, ImportLimits.MaxCellChars));
        var rowNumber = 0;
        var rowChars = 0L;
        List<string>? fields = null;
        while (reader.Read())
        {
            if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "row" && fields is not null)
            {
                if (!fields.All(string.IsNullOrWhiteSpace)) yield return new TableRecord(rowNumber, fields.ToArray());
                fields = null;
                continue;
            }
            if (reader.NodeType != XmlNodeType.Element) continue;
            if (reader.LocalName == "row")
            {
                rowNumber = uint.TryParse(reader.GetAttribute("r"), NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? (int)Math.Min(r, int.MaxValue) : rowNumber + 1;
                fields = reader.IsEmptyElement ? null : [];
                rowChars = 0;
            }
            else if (reader.LocalName == "c" && fields is not null)
            {
                var column = reader.GetAttribute("r") is { } reference ? ColumnIndex(reference) : fields.Count;
                if (column < 0 || column > 16_384) column = fields.Count;
                if (column >= ImportLimits.MaxColumns) throw BoundedLineReader.TooManyColumns();
                var value = Value(reader, reader.GetAttribute("t"), strings, text, out var length);
                // Counted as the import keeps the cell (up to MaxCellChars), so the preview refuses what the import would.
                rowChars += length;
                if (rowChars > ImportLimits.MaxLineChars) throw BoundedLineReader.LineTooLong();
                while (fields.Count < column) fields.Add("");
                if (fields.Count == column) fields.Add(value);
                else fields[column] = value;
            }
        }
    }

    private static SpreadsheetDocument Open(Stream stream)
    {
        try
        {
            return SpreadsheetDocument.Open(stream, false, new OpenSettings { AutoSave = false });
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or ImportFormatException))
        {
            throw new ImportFormatException("Import_Unreadable", "The workbook cannot be opened.", ex);
        }
    }

    private sealed record SheetEntry(string Name, string RelationshipId);

    /// <summary>The sheets named in workbook.xml, read as a stream: the SDK's DOM would load the whole part.</summary>
    private static List<SheetEntry> Sheets(SpreadsheetDocument document, InflationBudget budget)
    {
        var sheets = new List<SheetEntry>();
        if (document.WorkbookPart is not { } workbook) return sheets;
        using var reader = XmlReader.Create(budget.Watch(workbook.GetStream(FileMode.Open, FileAccess.Read)), Xml);
        while (reader.Read())
        {
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "sheet") continue;
            var id = reader.GetAttribute("id", RelationshipNamespace) ?? reader.GetAttribute("id", StrictRelationshipNamespace);
            if (id is not null) sheets.Add(new SheetEntry(Cut(reader.GetAttribute("name") ?? ""), id));
            if (sheets.Count > ImportLimits.MaxSheets) throw new ImportFormatException("Import_Unreadable", "The workbook names too many sheets.");
        }
        return sheets;
    }

    private static string Cut(string value) => value.Length <= ImportLimits.MaxSheetNameChars ? value : value[..ImportLimits.MaxSheetNameChars];

    private static SharedStringTable SharedStrings(WorkbookPart workbook, InflationBudget budget)
    {
        var strings = new SharedStringTable();
        if (workbook.SharedStringTablePart is not { } part) return strings;
        using var reader = XmlReader.Create(budget.Watch(part.GetStream(FileMode.Open, FileAccess.Read)), Xml);
        var text = new CellText(ImportLimits.MaxCellChars);
        while (reader.Read())
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "si")
            {
                ReadText(reader, text, "t");
                strings.Add(text.Text);
            }
        }
        return strings;
    }

    /// <summary>
    /// The cell's value, cut to the reader's cell limit, and in <paramref name="length"/> the characters the import
    /// keeps of it; the reader is on its start element and ends on its end element.
    /// </summary>
    private static string Value(XmlReader reader, string? type, SharedStringTable strings, CellText text, out int length)
    {
        length = 0;
        if (reader.IsEmptyElement) return "";
        ReadText(reader, text, type == "inlineStr" ? "t" : "v");
        var raw = text.Text.ToString();
        length = text.Length;
        if (type == "inlineStr") return raw;
        return type switch
        {
            "s" => int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? strings.Get(i, text.Limit, out length) : "",
            "str" or "b" or "e" => raw,
            _ => Number(raw),
        };
    }

    /// <summary>
    /// The text of the current element's &lt;<paramref name="element"/>&gt; descendants (t: a string's runs; v: a value),
    /// phonetic runs left out as Excel shows them, cut at the cell's limit while reading; its length counted up to
    /// <see cref="ImportLimits.MaxCellChars"/>. The reader ends on the current element's end element.
    /// </summary>
    private static void ReadText(XmlReader reader, CellText cell, string element)
    {
        var text = cell.Text;
        text.Clear();
        cell.Length = 0;
        if (reader.IsEmptyElement) return;
        var depth = reader.Depth;
        int inside = 0, phonetic = 0;
        var buffer = cell.Chunk;
        while (reader.Read() && reader.Depth > depth)
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element when !reader.IsEmptyElement:
                    if (reader.LocalName == "rPh") phonetic++;
                    else if (reader.LocalName == element) inside++;
                    break;
                case XmlNodeType.EndElement:
                    if (reader.LocalName == "rPh") phonetic--;
                    else if (reader.LocalName == element) inside--;
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace when inside > 0 && phonetic == 0:
                    int read;
                    while ((read = reader.ReadValueChunk(buffer, 0, buffer.Length)) > 0)
                    {
                        text.Append(buffer, 0, Math.Min(read, Math.Max(0, cell.Limit - text.Length)));
                        cell.Length = (int)Math.Min(ImportLimits.MaxCellChars, (long)cell.Length + read);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// The text of the cell being read (at most <see cref="Limit"/> characters), its length as the import keeps it,
    /// and the buffer its chunks pass through (one per reader, not per cell).
    /// </summary>
    private sealed class CellText(int limit)
    {
        public int Limit { get; } = limit;
        public StringBuilder Text { get; } = new();
        public int Length { get; set; }
        public char[] Chunk { get; } = new char[4096];
    }

    /// <summary>
    /// A phone number typed into a number cell is stored as a double: Excel dropped its leading '+' or
    /// '0'. With at most 15 digits the digits are exact and the prefix is restored (11+ digits carry a
    /// country code); an exponent, a fraction or more digits than a double holds is damage, left as it
    /// is so the normaliser reports it instead of guessing.
    /// </summary>
    internal static string Number(string raw)
    {
        raw = raw.Trim();
        if (raw.Length == 0 || raw.Length > 15 || !raw.All(char.IsAsciiDigit)) return raw;
        return (raw.Length >= 11 ? "+" : "0") + raw;
    }

    private static int ColumnIndex(string reference)
    {
        var index = 0;
        var letters = 0;
        foreach (var c in reference)
        {
            if (!char.IsAsciiLetter(c)) break;
            index = index * 26 + (char.ToUpperInvariant(c) - 'A' + 1);
            if (++letters > 3) return -1;
        }
        return letters == 0 ? -1 : index - 1;
    }
}
