namespace NewsletterMigrator.Common;

/// <summary>Shapes personal data for log lines and stored SMTP replies (C20): never the full address or number.</summary>
public static class Redact
{
    public static string Email(string? address)
    {
        if (string.IsNullOrEmpty(address)) return "";
        var at = address.LastIndexOf('@');
        return at <= 0 ? "***" : $"{address[0]}***@{address[(at + 1)..]}";
    }

    public static string Phone(string? number) =>
        string.IsNullOrEmpty(number) || number.Length < 4 ? "***" : $"***{number[^2..]}";

    /// <summary>
    /// Free text such as an SMTP reply, which often quotes the recipient: the same rules as every log
    /// line (<see cref="LogRedactor"/>), cut to a length fit for a database column.
    /// </summary>
    public static string Text(string? value)
    {
        var redacted = LogRedactor.Redact(value);
        return redacted.Length > 500 ? redacted[..500] : redacted;
    }
}
