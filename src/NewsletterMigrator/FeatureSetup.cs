using NewsletterMigrator.Api;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Backups;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Dashboard;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Feeds;
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
        services.AddScoped<WelcomeSettings>(); // the welcome mail's settings (issue 21), for the settings page and update-newsletter
        services.AddNewsletterLogos();
        services.AddImporting();
        services.AddConsent(Data.StorageSetup.ProviderOf(builder.Configuration));
        services.AddSingleton<Pages.Join.EmbedForm>(); // the embed page's cookie-free CSRF check (issue 17)
        services.AddCampaigns();
        services.AddFeeds();
        services.AddArchive();
        services.AddScoped<UnsubscribeService>();
        services.AddInviting();
        services.AddSending();
        builder.AddReaderRights();
        services.AddBackups();
        services.AddDashboard();
        services.AddDeliverability();
        services.AddScoped<NewsletterReputation>();
        builder.AddApi();
        return builder;
    }
}
