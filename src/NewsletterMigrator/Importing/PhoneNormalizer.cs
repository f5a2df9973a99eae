using System.Text.RegularExpressions;
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
public static partial class PhoneNormalizer
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    public static PhoneResult Normalize(string? raw, string defaultRegion)
    {
        var value = raw?.Trim().TrimStart('\'').Trim() ?? "";
        if (value.Length == 0) return new(null, InvalidReason.Empty);
        // Excel turns long numbers into 4,91602E+11: digits are lost, so never guess.
        if (ScientificNotation().IsMatch(value)) return new(null, InvalidReason.ScientificNotation);
        // No vanity-number conversion: a letter makes the entry invalid.
        if (value.Any(char.IsLetter)) return new(null, InvalidReason.Letters);
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
        return new(Util.Format(number, PhoneNumberFormat.E164), null);
    }

    /// <summary>The digits wa.me wants: the full international number without '+', spaces or leading zeros (C27).</summary>
    public static string WaMeDigits(string e164) => e164.TrimStart('+');

    [GeneratedRegex(@"^\d([.,]\d+)?[eE][+-]?\d+$")]
    private static partial Regex ScientificNotation();
}
