namespace NewsletterMigrator.Importing;

public sealed class ImportOptions
{
    public const string Section = "Import";

    /// <summary>The largest list the import page accepts, in bytes (default 200 MB).</summary>
    public long MaxUploadBytes { get; set; } = 200L * 1024 * 1024;

    /// <summary>The limit as the pages show it, e.g. "200 MB".</summary>
    public string MaxUploadText => $"{MaxUploadBytes / (1024.0 * 1024.0):0.#} MB";
}

public static class ImportingSetup
{
    /// <summary>Upload pages carry <see cref="AcceptsUploadAttribute"/>; <see cref="RequestBodyLimits"/> applies the limit.</summary>
    public static IServiceCollection AddImporting(this IServiceCollection services)
    {
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0, "Import:MaxUploadBytes must be greater than 0.").ValidateOnStart();
        services.AddScoped<ContactImporter>();
        services.AddSingleton<ImportQueue>();
        services.AddSingleton<ImportSpool>();
        services.AddSingleton<UploadPreviews>();
        services.AddHostedService<ImportWorker>();
        return services;
    }
}
