using System.Text;

namespace NewsletterMigrator.Common;

/// <summary>
/// Writes CSV that is safe to open in a spreadsheet: every value starting with '=', '+', '-', '@',
/// a tab or a carriage return gets a leading apostrophe, so it is shown as text and never run as a
/// formula (CSV injection). Fields are quoted per RFC 4180 (or always, with <c>quoteAll</c>).
/// UTF-8 with BOM and ';' for German Excel by default. Every CSV the app writes goes through this class.
/// </summary>
public sealed class SafeCsvWriter(TextWriter writer, char separator = ';', bool quoteAll = false) : IDisposable, IAsyncDisposable
{
    public static readonly Encoding Utf8WithBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: true);

    /// <summary>A writer on a response or file stream; write with <see cref="WriteRowAsync"/> there (Kestrel refuses synchronous I/O).</summary>
    public static SafeCsvWriter ForStream(Stream stream, char separator = ';', bool quoteAll = false) =>
        new(new StreamWriter(stream, Utf8WithBom, 1 << 16, leaveOpen: true) { NewLine = "\r\n" }, separator, quoteAll);

    /// <summary>A whole CSV file in memory, for small exports built in one go.</summary>
    public static byte[] ToBytes(Action<SafeCsvWriter> write, char separator = ';')
    {
        using var buffer = new MemoryStream();
        using (var csv = ForStream(buffer, separator)) write(csv);
        return buffer.ToArray();
    }

    public void WriteRow(params IEnumerable<string?> values) => writer.Write(Line(values));

    public Task WriteRowAsync(params IEnumerable<string?> values) => writer.WriteAsync(Line(values));

    /// <summary>The value with a leading apostrophe where a spreadsheet would run it as a formula.</summary>
    public static string Neutralize(string? value) =>
        string.IsNullOrEmpty(value) ? "" : value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;

    /// <summary>The neutralised and quoted form of one value.</summary>
    public static string Escape(string? value, char separator = ';', bool quoteAll = false)
    {
        var safe = Neutralize(value);
        var needsQuotes = quoteAll || safe.AsSpan().IndexOfAny([separator, '"', '\r', '\n']) >= 0;
        return needsQuotes ? "\"" + safe.Replace("\"", "\"\"") + "\"" : safe;
    }

    private string Line(IEnumerable<string?> values) =>
        string.Join(separator, values.Select(v => Escape(v, separator, quoteAll))) + "\r\n";

    public Task FlushAsync() => writer.FlushAsync();

    public void Dispose() => writer.Dispose();

    public ValueTask DisposeAsync() => writer.DisposeAsync();
}
