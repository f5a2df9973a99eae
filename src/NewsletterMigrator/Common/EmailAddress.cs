using System.Globalization;
using MimeKit;

namespace NewsletterMigrator.Common;

/// <summary>Trims, lower-cases and punycodes the domain; refuses what cannot be a deliverable address.</summary>
public static class EmailAddress
{
    private static readonly IdnMapping Idn = new();

    public static bool TryNormalize(string? input, out string normalized)
    {
        normalized = "";
        var value = input?.Trim() ?? "";
        if (value.Length is < 3 or > 254 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return false;
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1 || at > 64) return false;
        var local = value[..at];
        string domain;
        try
        {
            domain = Idn.GetAscii(value[(at + 1)..].TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return false;
        }
        if (!domain.Contains('.') || domain.StartsWith('.') || domain.Contains("..") || local.Contains("..")
            || local.StartsWith('.') || local.EndsWith('.') || local.Contains('"'))
            return false;
        var candidate = $"{local}@{domain}";
        if (!MailboxAddress.TryParse(candidate, out var mailbox) || mailbox.LocalPart != local) return false;
        normalized = candidate;
        return true;
    }

    /// <summary>The unique key of a subscriber: the whole address lower-cased.</summary>
    public static string Key(string normalized) => normalized.ToLowerInvariant();
}
