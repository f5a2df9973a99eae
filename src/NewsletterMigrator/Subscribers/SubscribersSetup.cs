using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

public static class SubscribersSetup
{
    /// <summary>Readers' rights (preference page, export, change, erasure), retention jobs and log redaction (C12–C20, C33).</summary>
    public static WebApplicationBuilder AddReaderRights(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ManageOptions>().BindConfiguration(ManageOptions.Section)
            .Validate(o => o.AccessLinkLifetime > TimeSpan.Zero && o.AccessLinkInterval >= TimeSpan.Zero,
                "Manage:AccessLinkLifetime must be positive and Manage:AccessLinkInterval not negative.")
            .ValidateOnStart();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => TimeOnly.TryParseExact(o.DailyAt, "HH:mm", out _), "Retention:DailyAt must be a time like 03:30 (HH:mm, Berlin time).")
            .Validate(o => o.UnconfirmedAfter > TimeSpan.Zero, "Retention:UnconfirmedAfter must be positive.")
            .ValidateOnStart();
        services.AddScoped<ManageService>();
        services.AddScoped<SuppressionList>();
        services.AddScoped<BounceMarks>();
        services.AddScoped<IDeliveryOutcomeHandler, FirstNewsletterMark>();
        services.AddScoped<ErasureService>();
        services.AddScoped<PhoneObjections>();
        services.AddScoped<InformalWithdrawals>();
        services.AddScoped<DataExportService>();
        services.AddScoped<RetentionService>();
        services.AddScoped<SubscriberLookup>();
        services.AddScoped<OptOutListImport>();
        services.AddHostedService<RetentionWorker>();
        services.AddLogRedaction();
        return builder;
    }
}
