using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Consent;

/// <summary>
/// What the Art. 13 text must say about this installation rather than about one newsletter (C40):
/// who delivers the mail and whether data leaves the EU/EEA. One installation, one mail provider.
/// </summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>The mail provider as a processor, with its legal entity, e.g. "Beispiel Mail GmbH, Berlin".</summary>
    public string? MailProvider { get; set; }

    /// <summary>The country the provider processes the mail in, e.g. "Deutschland"; shown next to its name.</summary>
    public string? MailProviderCountry { get; set; }

    /// <summary>
    /// A statement on transfers to third countries (Art. 13(1)(f)), e.g. the provider's country and the
    /// safeguard (adequacy decision, standard contractual clauses). Empty: the text says nothing about it.
    /// </summary>
    public string? ThirdCountryTransfers { get; set; }

    /// <summary>The same statement in English; empty uses <see cref="ThirdCountryTransfers"/> on the English page too.</summary>
    public string? ThirdCountryTransfersEn { get; set; }

    public bool NamesMailProvider => !string.IsNullOrWhiteSpace(MailProvider);
}

/// <summary>
/// In Production a real SMTP server means a processor readers must be told about (Art. 13(1)(e)):
/// start-up fails until it is named, instead of publishing a privacy text that leaves it out.
/// </summary>
public sealed class PrivacyOptionsValidator(IHostEnvironment environment, IConfiguration configuration) : IValidateOptions<PrivacyOptions>
{
    public ValidateOptionsResult Validate(string? name, PrivacyOptions o)
    {
        var smtpHost = configuration[$"{SmtpOptions.Section}:{nameof(SmtpOptions.Host)}"];
        if (environment.IsProduction() && !string.IsNullOrWhiteSpace(smtpHost) && !o.NamesMailProvider)
            return ValidateOptionsResult.Fail(
                $"Privacy:MailProvider is not set. Smtp:Host is '{smtpHost}': name the company that runs it, with its legal entity " +
                "(e.g. \"Beispiel Mail GmbH, Berlin\"), so the privacy text on the sign-up page names the processor (Art. 13 GDPR); " +
                "set Privacy:MailProviderCountry too.");
        return ValidateOptionsResult.Success;
    }
}
