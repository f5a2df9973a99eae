using NewsletterMigrator.Common;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Consent;

public static class ConsentSetup
{
    /// <summary>Sign-up, confirmation, consent texts, the proof export and the ledger's entry for a sent DOI mail (C1–C11, C43).</summary>
    public static IServiceCollection AddConsent(this IServiceCollection services, DatabaseProvider provider)
    {
        services.AddScoped<ConsentTextService>();
        services.AddSingleton<DefaultConsentTexts>();
        services.AddScoped<SignUpService>();
        services.AddSingleton<SignUpWriter>();
        services.AddSingleton<ReaderCache>();
        services.AddScoped<ConfirmationService>();
        services.AddSignUpRateLimits(provider);
        services.AddScoped<ProofExport>();
        services.AddScoped<IDeliveryOutcomeHandler, DoiSentProof>();
        return services;
    }
}
