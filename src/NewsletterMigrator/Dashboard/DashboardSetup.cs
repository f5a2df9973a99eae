namespace NewsletterMigrator.Dashboard;

public static class DashboardSetup
{
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section)
            .Validate(o => o.BackupWarnAfter > TimeSpan.Zero && o.MailWaitingWarnAfter > TimeSpan.Zero && o.MailFailureWindow > TimeSpan.Zero,
                "Dashboard:BackupWarnAfter, Dashboard:MailWaitingWarnAfter and Dashboard:MailFailureWindow must be positive times (e.g. 26:00:00).")
            .ValidateOnStart();
        services.AddScoped<AttentionItems>();
        return services;
    }
}
