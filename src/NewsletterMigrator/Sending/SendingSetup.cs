namespace NewsletterMigrator.Sending;

public static class SendingSetup
{
    /// <summary>
    /// The outbox and its delivery worker. The features plug in through Sending's interfaces, each in its own AddX:
    /// <see cref="IDeliveryOutcomeHandler"/> (any number), <see cref="ICampaignPauser"/> and <see cref="IReturnPaths"/>.
    /// </summary>
    public static IServiceCollection AddSending(this IServiceCollection services)
    {
        services.AddScoped<Outbox>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<OutboxIdleSignal>();
        services.AddSingleton<MailLayout>();
        services.AddSingleton<MessageFactory>();
        services.AddSingleton<DkimSigning>();
        services.AddSingleton<MailTransportFactory>();
        services.AddHostedService<DeliveryWorker>();
        return services;
    }
}
