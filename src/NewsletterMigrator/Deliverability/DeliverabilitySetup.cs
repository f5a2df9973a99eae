using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Deliverability;

public static class DeliverabilitySetup
{
    public static IServiceCollection AddDeliverability(this IServiceCollection services)
    {
        services.AddOptions<BouncesOptions>().BindConfiguration(BouncesOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BouncesOptions>, CampaignPauseLimitsValidator>();
        services.AddScoped<MailboxReportProcessor>();
        return services;
    }
}
