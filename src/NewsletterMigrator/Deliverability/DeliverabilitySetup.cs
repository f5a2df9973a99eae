using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Deliverability;

public static class DeliverabilitySetup
{
    public static IServiceCollection AddDeliverability(this IServiceCollection services)
    {
        services.AddOptions<BouncesOptions>().BindConfiguration(BouncesOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BouncesOptions>, BounceMailboxOptionsValidator>();
        services.AddScoped<MailboxReportProcessor>();
        services.AddScoped<MailboxStatus>();
        // Does nothing while Bounces:Imap:Host is empty.
        services.AddHostedService<MailboxReader>();
        return services;
    }
}
