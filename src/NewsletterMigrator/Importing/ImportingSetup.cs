using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace NewsletterMigrator.Importing;

public sealed class ImportOptions
{
    public const string Section = "Import";

    /// <summary>The largest list the import page accepts, in bytes (default 200 MB).</summary>
    public long MaxUploadBytes { get; set; } = 200L * 1024 * 1024;
}

public static class ImportingSetup
{
    /// <summary>The import page's upload limit, raised above Kestrel's 30 MB default for this page only.</summary>
    public const string UploadPage = "/Admin/Import";

    public static IServiceCollection AddImporting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0, "Import:MaxUploadBytes must be greater than 0.").ValidateOnStart();
        services.AddScoped<ContactImporter>();
        services.AddSingleton<ImportQueue>();
        services.AddSingleton<ImportSpool>();
        services.AddHostedService<ImportWorker>();

        var limit = configuration.GetValue<long?>($"{ImportOptions.Section}:{nameof(ImportOptions.MaxUploadBytes)}") ?? new ImportOptions().MaxUploadBytes;
        services.Configure<RazorPagesOptions>(options => options.Conventions.AddPageApplicationModelConvention(UploadPage, model =>
        {
            // The multipart envelope adds a little; the exact file limit is checked again with a clear message.
            var body = limit + 1024 * 1024;
            model.Filters.Add(new UploadTooLargeFilter(limit));
            model.Filters.Add(new RequestSizeLimitAttribute(body));
            model.Filters.Add(new RequestFormLimitsAttribute { MultipartBodyLengthLimit = body });
        }));
        return services;
    }
}
