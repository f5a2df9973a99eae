using System.Text;

namespace NewsletterMigrator.Common;

/// <summary>
/// Writes CSV that is safe to open in a spreadsheet: every value starting with '=', '+', '-', '@',
/// a tab or a carriage return gets a leading apostrophe, so it is shown as text and never run as a
/// formula (CSV injection). Fields are quoted per RFC 4180. UTF-8 with BOM and ';' for German Excel.
/// Every CSV the app writes goes through this class.
/// </summary>
public sealed class SafeCsvWriter(TextWriter writer, char separator = ';') : IDisposable, IAsyncDisposable
{
    public static readonly Encoding Utf8WithBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: true);

    public static SafeCsvWriter ForStream(Stream stream, char separator = ';') =>
        new(new StreamWriter(stream, Utf8WithBom, 1 << 16, leaveOpen: true) { NewLine = "\r\n" }, separator);

    public void WriteRow(params IEnumerable<string?> values)
    {
        var first = true;
        foreach (var value in values)
        {
            if (!first) writer.Write(separator);
            first = false;
            writer.Write(Escape(value ?? "", separator));
        }
        writer.Write("\r\n");
    }

    /// <summary>The neutralised and quoted form of one value.</summary>
    public static string Escape(string value, char separator = ';')
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        var needsQuotes = value.AsSpan().IndexOfAny([separator, '"', '\r', '\n']) >= 0;
        return needsQuotes ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    public Task FlushAsync() => writer.FlushAsync();

    public void Dispose() => writer.Dispose();

    public ValueTask DisposeAsync() => writer.DisposeAsync();
}
