using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// The controller as one line, "name, address, contact": the same words in the Art. 13 text, the page's
/// Impressum block and every mail's footer (C39, C40), so the proof and what the reader saw agree.
/// </summary>
public static class ControllerLine
{
    public static string Of(Newsletter n) =>
        string.Join(", ", new[] { n.ControllerName, Flatten(n.ControllerAddress), n.ControllerEmail }
            .Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()));

    /// <summary>A multi-line postal address on one line: the lines joined by commas.</summary>
    public static string Flatten(string s) =>
        string.Join(", ", s.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
