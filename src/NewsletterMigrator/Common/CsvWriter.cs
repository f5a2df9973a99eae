using System.Text;

namespace NewsletterMigrator.Common;

/// <summary>
/// Writes CSV that spreadsheets open safely: a value starting with = + - @ tab or CR gets a leading
/// apostrophe so it is never run as a formula (OWASP "CSV injection"); every field is quoted.
/// Semicolon-separated with a UTF-8 byte order mark, as German Excel expects.
/// </summary>
public sealed class CsvWriter(TextWriter writer, char separator = ';')
{
    public static readonly Encoding Utf8WithBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: true);

    public static string Neutralize(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        return value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
    }

    public static string Field(string? value) => "\"" + Neutralize(value).Replace("\"", "\"\"") + "\"";

    public Task WriteRowAsync(params string?[] values) =>
        writer.WriteAsync(string.Join(separator, values.Select(Field)) + "\r\n");
}
