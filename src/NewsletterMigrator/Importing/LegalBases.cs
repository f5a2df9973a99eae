using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Importing;

/// <summary>The legal basis an import records for its one invitation (C36): a kind and the editor's words.</summary>
public sealed record ImportLegalBasis(string Kind, string Text)
{
    public ImportLegalBasis Trimmed() => new(Kind?.Trim() ?? "", Text?.Trim() ?? "");
}

/// <summary>
/// The kinds of legal basis an editor chooses from. The invitation re-uses numbers collected for the old
/// WhatsApp newsletter (Art. 6(4) GDPR): usually the consent to that newsletter (Art. 6(1)(a)), under which
/// the invitation is the last message, or the portal's legitimate interest (Art. 6(1)(f)); "other" for what
/// the editor explains in the text.
/// </summary>
public static class LegalBases
{
    public const string ExistingConsent = "existing-consent";
    public const string LegitimateInterest = "legitimate-interest";
    public const string Other = "other";

    public static readonly string[] Kinds = [ExistingConsent, LegitimateInterest, Other];

    public const int MaxTextLength = 500;

    public static bool IsKind(string? kind) => kind is not null && Kinds.Contains(kind);

    /// <summary>The resource key of a kind's label; an unknown or empty kind (imports before C36) shows as such.</summary>
    public static string ResourceKey(string? kind) => IsKind(kind) ? "LegalBasisKind_" + kind : "LegalBasisKind_none";
}

/// <summary>Why an import may not start; the resource key is "Import_Refused_" + the name.</summary>
public enum ImportRefusal { LegalBasisKindMissing, LegalBasisMissing, NoMigrationEnd, MigrationEnded }

/// <summary>The rules an import must meet before it stores a single number (C16, C36).</summary>
public static class ImportRules
{
    /// <summary>All reasons, so the page can show every missing piece at once; empty: the import may start.</summary>
    public static List<ImportRefusal> Check(Newsletter newsletter, ImportLegalBasis? basis, DateTime nowUtc)
    {
        var refusals = new List<ImportRefusal>();
        if (!LegalBases.IsKind(basis?.Kind?.Trim())) refusals.Add(ImportRefusal.LegalBasisKindMissing);
        if (string.IsNullOrWhiteSpace(basis?.Text)) refusals.Add(ImportRefusal.LegalBasisMissing);
        switch (MigrationEnd.Window(newsletter, nowUtc))
        {
            case MigrationWindow.NoEndDate: refusals.Add(ImportRefusal.NoMigrationEnd); break;
            case MigrationWindow.Ended: refusals.Add(ImportRefusal.MigrationEnded); break;
        }
        return refusals;
    }

    public static string ResourceKey(ImportRefusal refusal) => "Import_Refused_" + refusal;
}
