namespace NewsletterMigrator.Importing;

/// <summary>One data row of an uploaded list: its line number in the file, the number and a name.</summary>
public readonly record struct ContactRow(int Line, string? Phone, string? Name);

/// <summary>Thrown when a file cannot be read at all; the message is a resource key for the editor.</summary>
public sealed class ImportFormatException(string reasonKey, string detail) : Exception(detail)
{
    public string ReasonKey { get; } = reasonKey;
}
