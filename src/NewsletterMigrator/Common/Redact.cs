using System.Text.RegularExpressions;

namespace NewsletterMigrator.Common;

/// <summary>Shapes personal data for log lines and stored SMTP replies (C20): never the full address or number.</summary>
public static partial class Redact
{
    public static string Email(string? address)
    {
        if (string.IsNullOrEmpty(address)) return "";
        var at = address.LastIndexOf('@');
        return at <= 0 ? "***" : $"{address[0]}***@{address[(at + 1)..]}";
    }

    public static string Phone(string? number) =>
        string.IsNullOrEmpty(number) || number.Length < 4 ? "***" : $"***{number[^2..]}";

    /// <summary>Free text such as an SMTP reply, which often quotes the recipient.</summary>
    public static string Text(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        var redacted = AddressPattern().Replace(value, m => Email(m.Value));
        redacted = PhonePattern().Replace(redacted, m => Phone(m.Value));
        return redacted.Length > 500 ? redacted[..500] : redacted;
    }

    [GeneratedRegex(@"[^\s<>""'(),;:]+@[^\s<>""'(),;:]+")]
    private static partial Regex AddressPattern();

    [GeneratedRegex(@"\+?\d[\d \-/()]{7,}\d")]
    private static partial Regex PhonePattern();
}
