using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Inviting;

public static class InvitingSetup
{
    public static IServiceCollection AddInviting(this IServiceCollection services)
    {
        services.AddOptions<WhatsAppOptions>().BindConfiguration(WhatsAppOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WhatsAppOptions>, WhatsAppOptionsValidator>();
        services.AddSingleton<InvitationLinks>();
        services.AddSingleton<WhatsAppSignal>();
        services.AddScoped<InvitationQueue>();
        services.AddScoped<WhatsAppInvitations>();
        services.AddScoped<FunnelReport>();
        services.AddScoped<WhatsAppAccounts>();
        services.AddScoped<WhatsAppRefusals>();
        services.AddScoped<WhatsAppForecasts>();
        services.AddHttpClient(WhatsAppWorker.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.AddHostedService<WhatsAppWorker>();
        services.AddSingleton<InvitationOpens>();
        services.AddHostedService(sp => sp.GetRequiredService<InvitationOpens>());
        return services;
    }
}
