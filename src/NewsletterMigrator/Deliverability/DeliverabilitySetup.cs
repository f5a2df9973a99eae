using Microsoft.Extensions.Options;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Deliverability;

public static class DeliverabilitySetup
{
    public static IServiceCollection AddDeliverability(this IServiceCollection services)
    {
        services.AddOptions<BouncesOptions>().BindConfiguration(BouncesOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BouncesOptions>, ReturnPathOptionsValidator>();
        services.AddSingleton<IValidateOptions<BouncesOptions>, BounceMailboxOptionsValidator>();
        services.AddSingleton<IValidateOptions<BouncesOptions>, CampaignPauseLimitsValidator>();
        services.AddSingleton<VerpAddress>();
        services.AddSingleton<IReturnPaths>(provider => provider.GetRequiredService<VerpAddress>());
        services.AddScoped<MailboxReportProcessor>();
        services.AddScoped<ReportTarget>();
        services.AddScoped<DeliveryEventLog>();
        services.AddScoped<ReportEffects>();
        services.AddScoped<IDeliveryOutcomeHandler, SmtpRefusals>();
        services.AddScoped<MailboxStatus>();
        // Does nothing while Bounces:Imap:Host is empty.
        services.AddHostedService<MailboxReader>();
        return services;
    }
}
