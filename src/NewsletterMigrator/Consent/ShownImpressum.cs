using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>
/// The controller line and the Impressum as a reader page shows them (C39). Part of the hashed consent-text
/// version (C43), so the proof says whom the reader agreed with; the page footer shows the same text.
/// </summary>
public static class ShownImpressum
{
    public static string For(Newsletter n)
    {
        var lines = new[] { Newsletters.ControllerLine.Of(n), n.Impressum.ReplaceLineEndings("\n").Trim(), n.ImpressumUrl.Trim() };
        return string.Join("\n", lines.Where(l => l.Length > 0));
    }
}
