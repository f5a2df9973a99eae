namespace NewsletterMigrator.Importing;

/// <summary>
/// One data row of an uploaded list: its line number in the file, the number and a name.
/// <paramref name="Skipped"/> holds further numbers of the same entry that are not used (a vCard's landline).
/// </summary>
public readonly record struct ContactRow(int Line, string? Phone, string? Name, IReadOnlyList<string>? Skipped = null);

/// <summary>One record of a table (CSV, spreadsheet, plain text) before the column mapping is applied.</summary>
public sealed record TableRecord(int Line, string[] Fields);

/// <summary>Thrown when a file cannot be read at all; <see cref="ReasonKey"/> is a resource key for the editor.</summary>
public sealed class ImportFormatException(string reasonKey, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public string ReasonKey { get; } = reasonKey;
}
