using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Testing;

/// <summary>What an editor records for an import (C36); every test import that is not about the legal basis uses it.</summary>
public static class TestImports
{
    public const string LegalBasisText = "existing WhatsApp newsletter consent, obtained until 2019-12-06";

    public static readonly ImportLegalBasis Basis = new(LegalBases.ExistingConsent, LegalBasisText);

    /// <summary>A migration end date well ahead, as an import needs one (C16).</summary>
    public static DateTime MigrationEndUtc => DateTime.UtcNow.AddDays(60);
}
