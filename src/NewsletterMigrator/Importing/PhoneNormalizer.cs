using System.Buffers;
using PhoneNumbers;

namespace NewsletterMigrator.Importing;

public static class InvalidReason
{
    public const string Empty = "empty";
    public const string Letters = "letters";
    public const string ScientificNotation = "scientific_notation";
    public const string Unparseable = "unparseable";
    public const string InvalidNumber = "invalid_number";
    public const string NotMobile = "not_mobile";
    public const string Suppressed = "suppressed";
    /// <summary>A further number of a vCard (work, home): reported, not imported, and not counted as invalid.</summary>
    public const string Landline = "landline";
}

public readonly record struct PhoneResult(string? E164, string? InvalidReason)
{
    public bool IsValid => E164 is not null;
}

/// <summary>Turns a phone number in any shape into E.164 with libphonenumber; only mobile-capable numbers pass.</summary>
public static class PhoneNormalizer
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    // What nearly every list holds: ASCII digits and the separators people type between them. Such a value goes to
    // libphonenumber as it is; only anything else (letters, Unicode spaces, URIs, Excel marks) takes PhoneShapes' slow
    // path. The vectorised scan costs a few ns, less than the letter scan and regex every row paid before (import-stages
    // bench, "normalise (libphonenumber)": 3.01 µs/row before, 2.99-3.12 after, within the noise). The slow path adds
    // about 0.3-0.5 µs to the rows that take it.
    private static readonly SearchValues<char> Plain = SearchValues.Create("0123456789 +-/().");

    public static PhoneResult Normalize(string? raw, string defaultRegion)
    {
        var span = (raw ?? "").AsSpan();
        string value;
        if (!span.ContainsAnyExcept(Plain))
        {
            span = span.Trim(' ');
            if (span.IsEmpty) return new(null, InvalidReason.Empty);
            value = span.Length == raw!.Length ? raw : span.ToString();
        }
        else
        {
            var reason = PhoneShapes.Read(raw!, out value);
            if (reason is not null) return new(null, reason);
        }
        // libphonenumber reads 00 only where 00 is the region's exit code; a German list read with region US still
        // means +49 by 0049. 011 is left to the region: it is the exit code of the US, a German area code here.
        if (value.StartsWith("00", StringComparison.Ordinal)) value = "+" + value[2..];

        PhoneNumber number;
        try
        {
            number = Util.Parse(value, defaultRegion);
        }
        catch (NumberParseException)
        {
            return new(null, InvalidReason.Unparseable);
        }
        // GetNumberType answers UNKNOWN exactly where IsValidNumber says no; asking both matched every pattern twice.
        var type = Util.GetNumberType(number);
        if (type == PhoneNumberType.UNKNOWN) return new(null, InvalidReason.InvalidNumber);
        if (type is not (PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE_OR_MOBILE))
            return new(null, InvalidReason.NotMobile);
        // E.164 has no extension: an extension libphonenumber found (tel:…;ext=12) is dropped here, see PhoneShapes.
        return new(Util.Format(number, PhoneNumberFormat.E164), null);
    }

    /// <summary>The digits wa.me wants: the full international number without '+', spaces or leading zeros (C27).</summary>
    public static string WaMeDigits(string e164) => e164.TrimStart('+');
}
