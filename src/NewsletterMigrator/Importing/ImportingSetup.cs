namespace NewsletterMigrator.Importing;

public sealed class ImportOptions
{
    public const string Section = "Import";

    /// <summary>The largest list the import page accepts, in bytes (default 200 MB).</summary>
    public long MaxUploadBytes { get; set; } = 200L * 1024 * 1024;

    /// <summary>
    /// How long a running (or queued) import's batch stays its instance's without a renewal (default 1 minute). The
    /// instance renews it about every second; once it has expired any instance removes the batch (a crashed import),
    /// so it must be longer than any pause of a live instance. Every instance checks for expired imports twice per duration.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the running instance writes the progress and renews its leases: at most every second, at least four times per lease.</summary>
    public TimeSpan HeartbeatInterval => LeaseDuration / 4 < TimeSpan.FromSeconds(1) ? LeaseDuration / 4 : TimeSpan.FromSeconds(1);

    /// <summary>The limit as the pages show it, e.g. "200 MB".</summary>
    public string MaxUploadText => $"{MaxUploadBytes / (1024.0 * 1024.0):0.#} MB";
}

public static class ImportingSetup
{
    /// <summary>Upload pages carry <see cref="AcceptsUploadAttribute"/>; <see cref="RequestBodyLimits"/> applies the limit.</summary>
    public static IServiceCollection AddImporting(this IServiceCollection services)
    {
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0, "Import:MaxUploadBytes must be greater than 0.")
            .Validate(o => o.LeaseDuration >= TimeSpan.FromMilliseconds(400), "Import:LeaseDuration must be at least 00:00:00.400 (a minute is the default).")
            .ValidateOnStart();
        services.AddScoped<ContactImporter>();
        services.AddSingleton<ImportQueue>();
        services.AddSingleton<ImportLeases>();
        services.AddSingleton<ImportSpool>();
        services.AddSingleton<UploadPreviews>();
        services.AddHostedService<ImportWorker>();
        services.AddHostedService<ImportSweeper>();
        return services;
    }
}
