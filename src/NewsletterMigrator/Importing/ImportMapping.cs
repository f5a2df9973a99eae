using System.Text.RegularExpressions;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Which column holds what (0-based, -1 for none), whether the first record is a header, and which
/// spreadsheet sheet to read (null: the first). Detected from the header; the editor may change it.
/// <paramref name="PhoneFields"/>: an export with several phone columns (Outlook's Mobile/Home/Business Phone) or a type
/// column beside a value (Google's <c>Phone 1 - Type</c>) is read from all of them, and each row's mobile number is taken
/// (<see cref="PhoneChoice"/>); <paramref name="PhoneColumn"/> is then the one the editor would most likely pick alone.
/// Null for a list with one phone column, which is read as before.
/// </summary>
public sealed record ImportMapping(int PhoneColumn, int NameColumn = -1, int FirstNameColumn = -1, int LastNameColumn = -1,
    bool HasHeader = true, string? Sheet = null, IReadOnlyList<PhoneField>? PhoneFields = null)
{
    /// <summary>The preview form's phone column choice meaning "every detected phone column" (<see cref="PhoneFields"/>).</summary>
    public const int AllPhoneColumns = -2;
}

/// <summary>One phone column of an export: its index and header, the label its header gives, and its type column (-1: none).</summary>
public sealed record PhoneField(int Column, string Header, PhoneLabel Label = PhoneLabel.Unlabelled, int TypeColumn = -1, string? TypeHeader = null);

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

/// <summary>German and English header names (item 2 of the import issue), and the phone columns of common exports.</summary>
public static partial class HeaderNames
{
    /// <summary>Plain phone columns; the mobile and the other ones follow (both are phone columns too).</summary>
    private static readonly string[] Phone =
        ["telefon", "telefonnummer", "rufnummer", "phone", "phone number", "number", "nummer", "tel", "telefon nr", "tel nr"];
    /// <summary>Headers that say the column holds mobile numbers (Outlook's Mobile Phone / Mobiltelefon, WhatsApp export tools' WhatsApp).</summary>
    private static readonly string[] MobilePhone =
        ["handy", "handynummer", "handy nummer", "mobil", "mobilnummer", "mobiltelefon", "mobiltelefon 2", "mobile", "mobile number", "mobile phone", "mobile phone 2",
         "cell", "cell phone", "cellphone", "whatsapp", "whatsapp nummer", "whatsapp number", "whatsapp link"];
    /// <summary>Outlook's further phone columns, English and German (faxes, pagers, telex are not numbers to invite).</summary>
    private static readonly string[] OtherPhone =
        ["home phone", "home phone 2", "business phone", "business phone 2", "work phone", "other phone", "primary phone", "company main phone", "car phone",
         "telefon privat", "telefon privat 2", "telefon geschäftlich", "telefon geschäftlich 2", "weiteres telefon", "haupttelefon", "autotelefon", "telefon firma"];
    private static readonly string[] Name = ["name", "vollständiger name", "full name", "anzeigename", "display name", "kontakt", "contact", "saved name", "gespeicherter name"];
    private static readonly string[] First = ["vorname", "first name", "firstname", "given name"];
    private static readonly string[] Last = ["nachname", "last name", "lastname", "surname", "family name", "familienname"];
    /// <summary>Opt-out lists (C36) may hold addresses; '-' and '_' are read as spaces.</summary>
    private static readonly string[] Email = ["email", "e mail", "mail", "emailadresse", "e mail adresse", "email address", "e mail address"];

    public static bool IsHeader(string[] fields) =>
        fields.Any(f => PhoneLabelOf(Normalised(f)) is not null || GooglePhone().IsMatch(Normalised(f)) || Is(f, Name) || Is(f, First) || Is(f, Last) || Is(f, Email));

    /// <summary>The mapping a header row suggests; the phone column is -1 when none is recognised.</summary>
    public static ImportMapping Detect(string[] header, string? sheet)
    {
        int name = -1, first = -1, last = -1;
        var phones = new List<PhoneField>();
        // Google Contacts: "Phone 1 - Type" (older exports) or "Phone 1 - Label" (newer ones) beside "Phone 1 - Value".
        var googleTypes = new Dictionary<string, int>();
        for (var i = 0; i < header.Length; i++)
        {
            var h = Normalised(header[i]);
            if (GooglePhone().Match(h) is { Success: true } google)
            {
                if (google.Groups[2].Value == "value") phones.Add(new PhoneField(i, header[i].Trim(), PhoneLabel.Unlabelled, -1, google.Groups[1].Value));
                else googleTypes.TryAdd(google.Groups[1].Value, i);
            }
            else if (PhoneLabelOf(h) is { } label) phones.Add(new PhoneField(i, header[i].Trim(), label));
            else if (name < 0 && Name.Contains(h)) name = i;
            else if (first < 0 && First.Contains(h)) first = i;
            else if (last < 0 && Last.Contains(h)) last = i;
        }
        // The Google value columns carried their number in TypeHeader for the pairing; now the type column itself.
        phones = phones.Select(p => p.TypeHeader is { } n
            ? googleTypes.TryGetValue(n, out var t) ? p with { TypeColumn = t, TypeHeader = header[t].Trim() } : p with { TypeHeader = null }
            : p).ToList();
        if (phones.Count == 0) return new ImportMapping(-1, name, first, last, true, sheet);
        if (phones.Count == 1 && phones[0].TypeColumn < 0) return new ImportMapping(phones[0].Column, name, first, last, true, sheet);
        var primary = phones.FirstOrDefault(p => p.Label == PhoneLabel.Mobile) ?? phones[0];
        return new ImportMapping(primary.Column, name, first, last, true, sheet, phones);
    }

    /// <summary>Without a header: the number in the first column, a name in the second if there is one.</summary>
    public static ImportMapping Headerless(string[] first, string? sheet) =>
        new(0, first.Length > 1 ? 1 : -1, -1, -1, false, sheet);

    private static PhoneLabel? PhoneLabelOf(string normalised) =>
        MobilePhone.Contains(normalised) ? PhoneLabel.Mobile : OtherPhone.Contains(normalised) ? PhoneLabel.Other : Phone.Contains(normalised) ? PhoneLabel.Unlabelled : null;

    private static bool Is(string cell, string[] names) => names.Contains(Normalised(cell));

    /// <summary>Lower case; '-', '_' and Outlook's brackets (<c>Telefon (privat)</c>) read as spaces, runs of spaces as one.</summary>
    private static string Normalised(string cell) =>
        Spaces().Replace(cell.Trim().Trim('"').Replace('_', ' ').Replace('-', ' ').Replace('(', ' ').Replace(')', ' ').ToLowerInvariant(), " ").Trim();

    [GeneratedRegex(@"^phone (\d+) (value|type|label)$")]
    private static partial Regex GooglePhone();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
