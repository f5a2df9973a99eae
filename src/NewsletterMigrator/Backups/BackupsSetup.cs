namespace NewsletterMigrator.Backups;

public static class BackupsSetup
{
    /// <summary>The <c>backup</c> and <c>restore</c> verbs' services (see BackupVerbs).</summary>
    public static IServiceCollection AddBackups(this IServiceCollection services)
    {
        services.AddScoped<BackupWriter>();
        services.AddScoped<BackupRestorer>();
        return services;
    }
}
