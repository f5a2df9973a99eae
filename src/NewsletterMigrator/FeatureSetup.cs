using NewsletterMigrator.Backups;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Dashboard;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator;

public static class FeatureSetup
{
    public static WebApplicationBuilder AddNewsletterFeatures(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<NewsletterService>();
        services.AddNewsletterLogos();
        services.AddImporting();
        services.AddScoped<ConsentTextService>();
        services.AddSingleton<DefaultConsentTexts>();
        services.AddScoped<SignUpService>();
        services.AddSingleton<Pages.Join.EmbedForm>(); // the embed page's cookie-free CSRF check (issue 17)
        services.AddSingleton<SignUpWriter>();
        services.AddSingleton<ReaderCache>();
        services.AddScoped<ConfirmationService>();
        services.AddSignUpRateLimits(Data.StorageSetup.ProviderOf(builder.Configuration));
        services.AddScoped<ProofExport>();
        services.AddScoped<CampaignService>();
        services.AddScoped<CampaignFanOut>();
        services.AddSingleton<FanOutGate>();
        services.AddScoped<UnsubscribeService>();
        services.AddScoped<Outbox>();
        services.AddInviting();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<MailLayout>();
        services.AddSingleton<MessageFactory>();
        services.AddSingleton<DkimSigning>();
        services.AddScoped<CampaignProgress>();
        services.AddSingleton<MailTransportFactory>();
        services.AddHostedService<DeliveryWorker>();
        builder.AddReaderRights();
        services.AddBackups();
        services.AddDashboard();
        services.AddDeliverability();
        services.AddScoped<CampaignHealth>();
        services.AddScoped<CampaignPauses>();
        services.AddScoped<CampaignDeliverability>();
        services.AddScoped<NewsletterReputation>();
        return builder;
    }
}
