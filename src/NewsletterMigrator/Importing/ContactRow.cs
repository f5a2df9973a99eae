namespace NewsletterMigrator.Importing;

/// <summary>
/// One data row of an uploaded list: its line number in the file, the number and a name.
/// The common row (one value per row: a list's phone column, a card with one TEL) has <paramref name="Phone"/> set and
/// <paramref name="Candidates"/> null, so a million-row import allocates nothing more per row. An entry with several
/// numbers (several phone columns, a type column, a card with several TELs) lists them in <paramref name="Candidates"/>,
/// and <paramref name="Phone"/> then holds all of them as written, for the row report; <see cref="PhoneChoice"/> decides.
/// </summary>
public readonly record struct ContactRow(int Line, string? Phone, string? Name, IReadOnlyList<PhoneCandidate>? Candidates = null)
{
    /// <summary>The number an entry would be known by where only one is used (an opt-out list): the first labelled mobile, else the first.</summary>
    public string? PreferredPhone => Candidates is { Count: > 0 } c ? (c.FirstOrDefault(x => x.Label == PhoneLabel.Mobile) ?? c[0]).Value : Phone;

    /// <summary>The numbers as written, joined for the report and the preview.</summary>
    public static string Joined(IReadOnlyList<PhoneCandidate> candidates) => string.Join(" / ", candidates.Select(c => c.Value));
}

/// <summary>What an export says a number is: from its column's header, its type column, or a vCard's TYPE / X-ABLabel.</summary>
public enum PhoneLabel
{
    Unlabelled,
    Mobile,
    Other,
}

/// <summary>One of several numbers of an entry: the value as written, its label, and where it stood (a header such as
/// <c>Phone 2 - Value (Home)</c>, or a vCard line such as <c>TEL;TYPE=CELL</c>) for the row report.</summary>
public sealed record PhoneCandidate(string Value, PhoneLabel Label, string Source);

/// <summary>One record of a table (CSV, spreadsheet, plain text) before the column mapping is applied.</summary>
public sealed record TableRecord(int Line, string[] Fields);

/// <summary>Thrown when a file cannot be read at all; <see cref="ReasonKey"/> is a resource key for the editor.</summary>
public sealed class ImportFormatException(string reasonKey, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public string ReasonKey { get; } = reasonKey;
}
