using System.Text;
using Sylvan.Data.Csv;

namespace NewsletterMigrator.Importing;

/// <summary>Reads CSV (separator detected), plain text and vCard lists into contact rows, streaming.</summary>
public static class ListReader
{
    private static readonly string[] PhoneHeaders =
        ["telefon", "telefonnummer", "handy", "handynummer", "mobil", "mobilnummer", "rufnummer", "phone", "phone number", "mobile", "number", "nummer", "tel", "whatsapp"];
    private static readonly string[] NameHeaders = ["name", "vollständiger name", "full name", "anzeigename", "display name"];
    private static readonly string[] FirstNameHeaders = ["vorname", "first name", "first_name", "firstname"];
    private static readonly string[] LastNameHeaders = ["nachname", "last name", "last_name", "lastname", "surname"];

    static ListReader() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static IEnumerable<ContactRow> Read(Stream stream, string fileName)
    {
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        var text = Decode(stream);
        return extension switch
        {
            ".vcf" or ".vcard" => VCardReader.Read(text),
            ".txt" => ReadPlainText(text),
            _ => LooksLikeVCard(text) ? VCardReader.Read(text) : ReadCsv(text),
        };
    }

    /// <summary>UTF-8 (with or without BOM) or UTF-16 with BOM; anything that is not valid UTF-8 is Windows-1252.</summary>
    internal static string Decode(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        if (bytes.StartsWith(new byte[] { 0xEF, 0xBB, 0xBF })) return Encoding.UTF8.GetString(bytes[3..]);
        if (bytes.StartsWith(new byte[] { 0xFF, 0xFE })) return Encoding.Unicode.GetString(bytes[2..]);
        if (bytes.StartsWith(new byte[] { 0xFE, 0xFF })) return Encoding.BigEndianUnicode.GetString(bytes[2..]);
        if (bytes.IndexOf((byte)0) >= 0) throw new ImportFormatException("Import_Binary", "The file contains binary data.");
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.GetEncoding(1252).GetString(bytes);
        }
    }

    private static bool LooksLikeVCard(string text) => text.TrimStart().StartsWith("BEGIN:VCARD", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<ContactRow> ReadPlainText(string text)
    {
        var line = 0;
        foreach (var raw in text.Split('\n'))
        {
            line++;
            var value = raw.Trim();
            if (value.Length == 0 || value.StartsWith('#')) continue;
            yield return new ContactRow(line, value, null);
        }
    }

    private static IEnumerable<ContactRow> ReadCsv(string text)
    {
        var firstLine = text.AsSpan(0, Math.Max(0, text.IndexOfAny(['\r', '\n']) is var i and >= 0 ? i : text.Length));
        var delimiter = DetectDelimiter(firstLine);
        var hasHeader = HasHeader(firstLine.ToString(), delimiter);
        var options = new CsvDataReaderOptions
        {
            Delimiter = delimiter,
            HasHeaders = hasHeader,
            Schema = null,
            BufferSize = 1 << 16,
            MaxBufferSize = 1 << 22,
        };
        using var reader = CsvDataReader.Create(new StringReader(text), options);
        var (phone, name, first, last) = hasHeader ? MapColumns(reader) : (0, reader.FieldCount > 1 ? 1 : -1, -1, -1);
        var rowLine = hasHeader ? 1 : 0;
        while (reader.Read())
        {
            rowLine = reader.RowNumber;
            if (reader.RowFieldCount == 1 && reader.GetString(0).Trim().Length == 0) continue;
            yield return new ContactRow(rowLine, Field(reader, phone), ComposeName(reader, name, first, last));
        }
    }

    private static char DetectDelimiter(ReadOnlySpan<char> header)
    {
        char[] candidates = [';', ',', '\t', '|'];
        var best = ',';
        var bestCount = 0;
        foreach (var c in candidates)
        {
            var count = header.Count(c);
            if (count > bestCount) (best, bestCount) = (c, count);
        }
        return best;
    }

    private static bool HasHeader(string firstLine, char delimiter) =>
        firstLine.Split(delimiter).Any(cell => Recognised(cell, PhoneHeaders) || Recognised(cell, NameHeaders) || Recognised(cell, FirstNameHeaders));

    private static bool Recognised(string cell, string[] names)
    {
        var normalised = cell.Trim().Trim('"').Replace('_', ' ').Replace('-', ' ').ToLowerInvariant();
        return names.Any(n => n.Replace('_', ' ') == normalised);
    }

    private static (int Phone, int Name, int First, int Last) MapColumns(CsvDataReader reader)
    {
        int phone = -1, name = -1, first = -1, last = -1;
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var header = reader.GetName(i);
            if (phone < 0 && Recognised(header, PhoneHeaders)) phone = i;
            else if (name < 0 && Recognised(header, NameHeaders)) name = i;
            else if (first < 0 && Recognised(header, FirstNameHeaders)) first = i;
            else if (last < 0 && Recognised(header, LastNameHeaders)) last = i;
        }
        if (phone < 0) throw new ImportFormatException("Import_NoPhoneColumn", "No column holds phone numbers.");
        return (phone, name, first, last);
    }

    private static string? Field(CsvDataReader reader, int index) =>
        index >= 0 && index < reader.RowFieldCount ? reader.GetString(index) : null;

    private static string? ComposeName(CsvDataReader reader, int name, int first, int last)
    {
        var full = Field(reader, name);
        if (!string.IsNullOrWhiteSpace(full)) return full.Trim();
        var composed = $"{Field(reader, first)} {Field(reader, last)}".Trim();
        return composed.Length == 0 ? null : composed;
    }
}
