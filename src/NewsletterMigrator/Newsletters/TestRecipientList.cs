using NewsletterMigrator.Common;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// The addresses an admin allows as test recipients besides staff accounts (C45): one per line (commas and
/// semicolons also separate), normalised, de-duplicated by their key.
/// </summary>
public static class TestRecipientList
{
    public sealed record Parsed(IReadOnlyList<string> Addresses, IReadOnlyList<string> Invalid)
    {
        /// <summary>The stored form: one normalised address per line.</summary>
        public string Text => string.Join('\n', Addresses);
    }

    public static Parsed Parse(string? text)
    {
        var addresses = new List<string>();
        var invalid = new List<string>();
        foreach (var entry in (text ?? "").Split(['\n', '\r', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!EmailAddress.TryNormalize(entry, out var address)) invalid.Add(entry);
            else if (!addresses.Any(a => EmailAddress.Key(a) == EmailAddress.Key(address))) addresses.Add(address);
        }
        return new Parsed(addresses, invalid);
    }
}
