using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Reads one sheet of an XLSX workbook row by row with the SAX-style OpenXmlReader, so a large sheet
/// never sits in memory as a DOM. Only the shared-string table is loaded.
/// </summary>
internal static class XlsxReader
{
    public static IReadOnlyList<string> SheetNames(Stream stream)
    {
        using var document = Open(stream);
        return Sheets(document).Select(s => s.Name?.Value ?? "").ToList();
    }

    public static IEnumerable<TableRecord> Read(Stream stream, string? sheetName)
    {
        using var document = Open(stream);
        var workbook = document.WorkbookPart ?? throw new ImportFormatException("Import_Unreadable", "The workbook has no workbook part.");
        var sheets = Sheets(document);
        var sheet = sheetName is null ? sheets.FirstOrDefault() : sheets.FirstOrDefault(s => s.Name?.Value == sheetName);
        if (sheet?.Id?.Value is not { } relationship)
            throw new ImportFormatException(sheetName is null ? "Import_Unreadable" : "Import_SheetNotFound", "The sheet does not exist.");
        if (workbook.GetPartById(relationship) is not WorksheetPart part)
            throw new ImportFormatException("Import_Unreadable", "The sheet is not a worksheet.");
        var strings = SharedStrings(workbook);

        using var reader = OpenXmlReader.Create(part);
        var rowNumber = 0;
        while (reader.Read())
        {
            if (reader.ElementType != typeof(Row) || !reader.IsStartElement) continue;
            var row = (Row)reader.LoadCurrentElement()!;
            rowNumber = row.RowIndex?.Value is { } r ? (int)Math.Min(r, int.MaxValue) : rowNumber + 1;
            var fields = new List<string>();
            foreach (var cell in row.Elements<Cell>())
            {
                var column = cell.CellReference?.Value is { } reference ? ColumnIndex(reference) : fields.Count;
                if (column < 0 || column > 16_384) column = fields.Count;
                while (fields.Count < column) fields.Add("");
                var value = Value(cell, strings);
                if (fields.Count == column) fields.Add(value);
                else fields[column] = value;
            }
            if (fields.All(string.IsNullOrWhiteSpace)) continue;
            yield return new TableRecord(rowNumber, fields.ToArray());
        }
    }

    private static SpreadsheetDocument Open(Stream stream)
    {
        try
        {
            return SpreadsheetDocument.Open(stream, false, new OpenSettings { AutoSave = false });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ImportFormatException("Import_Unreadable", "The workbook cannot be opened.", ex);
        }
    }

    private static List<Sheet> Sheets(SpreadsheetDocument document) =>
        document.WorkbookPart?.Workbook?.Sheets?.Elements<Sheet>().ToList() ?? [];

    private static List<string> SharedStrings(WorkbookPart workbook)
    {
        var strings = new List<string>();
        if (workbook.SharedStringTablePart is not { } part) return strings;
        using var reader = OpenXmlReader.Create(part);
        while (reader.Read())
        {
            if (reader.ElementType == typeof(SharedStringItem) && reader.IsStartElement)
                strings.Add(((SharedStringItem)reader.LoadCurrentElement()!).InnerText);
        }
        return strings;
    }

    private static string Value(Cell cell, List<string> strings)
    {
        var type = cell.DataType?.Value;
        var raw = cell.CellValue?.Text ?? "";
        if (type == CellValues.SharedString)
            return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < strings.Count ? strings[i] : "";
        if (type == CellValues.InlineString) return cell.InlineString?.InnerText ?? "";
        if (type == CellValues.String || type == CellValues.Boolean || type == CellValues.Error) return raw;
        return Number(raw);
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
