namespace NewsletterMigrator.Importing;

/// <summary>
/// Which column holds what (0-based, -1 for none), whether the first record is a header, and which
/// spreadsheet sheet to read (null: the first). Detected from the header; the editor may change it.
/// </summary>
public sealed record ImportMapping(int PhoneColumn, int NameColumn = -1, int FirstNameColumn = -1, int LastNameColumn = -1,
    bool HasHeader = true, string? Sheet = null);

/// <summary>What the editor sees before anything is stored: the detected mapping and the first rows.</summary>
public sealed record ListPreview(string Format, IReadOnlyList<string> Headers, IReadOnlyList<TableRecord> Rows,
    ImportMapping? Mapping, IReadOnlyList<string> Sheets)
{
    /// <summary>vCards need no mapping: every card is one entry.</summary>
    public bool IsTable => Format != ListFormat.VCard;
}

public static class ListFormat
{
    public const string Csv = "csv";
    public const string Text = "txt";
    public const string VCard = "vcf";
    public const string Xlsx = "xlsx";
}

/// <summary>German and English header names (item 2 of the import issue).</summary>
public static class HeaderNames
{
    private static readonly string[] Phone =
        ["telefon", "telefonnummer", "handy", "handynummer", "mobil", "mobilnummer", "mobiltelefon", "rufnummer", "phone", "phone number", "mobile", "mobile number", "cell", "number", "nummer", "tel", "whatsapp", "whatsapp nummer"];
    private static readonly string[] Name = ["name", "vollständiger name", "full name", "anzeigename", "display name", "kontakt", "contact"];
    private static readonly string[] First = ["vorname", "first name", "firstname", "given name"];
    private static readonly string[] Last = ["nachname", "last name", "lastname", "surname", "family name", "familienname"];
    /// <summary>Opt-out lists (C36) may hold addresses; '-' and '_' are read as spaces.</summary>
    private static readonly string[] Email = ["email", "e mail", "mail", "emailadresse", "e mail adresse", "email address", "e mail address"];

    public static bool IsHeader(string[] fields) =>
        fields.Any(f => Is(f, Phone) || Is(f, Name) || Is(f, First) || Is(f, Last) || Is(f, Email));

    /// <summary>The mapping a header row suggests; the phone column is -1 when none is recognised.</summary>
    public static ImportMapping Detect(string[] header, string? sheet)
    {
        int phone = -1, name = -1, first = -1, last = -1;
        for (var i = 0; i < header.Length; i++)
        {
            var h = header[i];
            if (phone < 0 && Is(h, Phone)) phone = i;
            else if (name < 0 && Is(h, Name)) name = i;
            else if (first < 0 && Is(h, First)) first = i;
            else if (last < 0 && Is(h, Last)) last = i;
        }
        return new ImportMapping(phone, name, first, last, true, sheet);
    }

    /// <summary>Without a header: the number in the first column, a name in the second if there is one.</summary>
    public static ImportMapping Headerless(string[] first, string? sheet) =>
        new(0, first.Length > 1 ? 1 : -1, -1, -1, false, sheet);

    private static bool Is(string cell, string[] names)
    {
        var normalised = cell.Trim().Trim('"').Replace('_', ' ').Replace('-', ' ').ToLowerInvariant();
        return names.Contains(normalised);
    }
}
