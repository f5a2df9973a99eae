using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Common;

public static class OptionsSetup
{
    public static WebApplicationBuilder AddValidatedOptions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AppOptions>().BindConfiguration(AppOptions.Section).ValidateOnStart();
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateOnStart();
        services.AddOptions<SendingOptions>().BindConfiguration(SendingOptions.Section).ValidateOnStart();
        services.AddOptions<DkimOptions>().BindConfiguration(DkimOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SendingOptions>, SendingOptionsValidator>();
        services.AddSingleton<IValidateOptions<DkimOptions>, DkimOptionsValidator>();
        services.AddOptions<ConsentOptions>().BindConfiguration(ConsentOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsentOptions>, ConsentOptionsValidator>();
        services.AddOptions<Consent.PrivacyOptions>().BindConfiguration(Consent.PrivacyOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Consent.PrivacyOptions>, Consent.PrivacyOptionsValidator>();
        services.AddSingleton<IValidateOptions<AppOptions>, AppOptionsValidator>();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        return builder;
    }
}
