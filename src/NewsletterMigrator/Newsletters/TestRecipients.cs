using NewsletterMigrator.Common;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// The test addresses an admin keeps per newsletter (<see cref="Data.Newsletter.TestRecipients"/>, C45):
/// besides staff accounts, the only addresses a campaign's test mail may go to.
/// </summary>
public static class TestRecipients
{
    // One address a line is what the settings page asks for; commas and semicolons are forgiven because
    // a list pasted from a mail program looks like that.
    private static readonly char[] Separators = ['\r', '\n', ',', ';'];

    /// <summary>
    /// Reads the settings field. The settings page saves <see cref="TestRecipientList.Text"/> only when
    /// <see cref="TestRecipientList.IsValid"/>, and names <see cref="TestRecipientList.Invalid"/> otherwise.
    /// </summary>
    public static TestRecipientList Parse(string? text)
    {
        var addresses = new List<string>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var invalid = new List<string>();
        foreach (var entry in (text ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!EmailAddress.TryNormalize(entry, out var address)) invalid.Add(entry);
            else if (keys.Add(EmailAddress.Key(address))) addresses.Add(address);
        }
        return new TestRecipientList(addresses, invalid);
    }
}

/// <param name="Addresses">Normalized (<see cref="EmailAddress.TryNormalize"/>), each one once regardless of case.</param>
/// <param name="Invalid">The entries that are not an address, as typed.</param>
public sealed record TestRecipientList(IReadOnlyList<string> Addresses, IReadOnlyList<string> Invalid)
{
    public bool IsValid => Invalid.Count == 0;

    /// <summary>The field as it is stored: one normalized address a line.</summary>
    public string Text => string.Join('\n', Addresses);
}
