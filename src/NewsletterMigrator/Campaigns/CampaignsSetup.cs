using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Campaigns;

public static class CampaignsSetup
{
    /// <summary>Campaigns: editing, the fan-out, scheduling (start, complete, finish), progress, pauses and their health check.</summary>
    public static IServiceCollection AddCampaigns(this IServiceCollection services)
    {
        services.AddScoped<CampaignService>();
        services.AddScoped<CampaignFanOut>();
        services.AddSingleton<FanOutGate>();
        services.AddScoped<CampaignProgress>();
        services.AddScoped<CampaignHealth>();
        services.AddScoped<CampaignPauses>();
        // The delivery worker pauses a campaign through Sending's own interface.
        services.AddScoped<ICampaignPauser>(provider => provider.GetRequiredService<CampaignPauses>());
        services.AddScoped<CampaignDeliverability>();
        services.AddHostedService<CampaignScheduler>();
        return services;
    }
}
