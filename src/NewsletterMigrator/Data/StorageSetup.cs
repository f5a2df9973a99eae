using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Data;

public static class StorageSetup
{
    private static readonly SqliteConnectionPragmas ConnectionPragmas = new();
    private static readonly ReaderDataChangesInterceptor ReaderDataSaves = new();

    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // The options are built once (singleton), not for every request scope: building them per scope was about 7 % of a
        // reader page's time in the profile of issue 17 (UseSqlite, ConfigureWarnings and EF's options services each time).
        services.AddDbContext<AppDbContext>((sp, options) =>
            options.UseSqlite(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString)
                .AddInterceptors(ConnectionPragmas, ReaderDataSaves), optionsLifetime: ServiceLifetime.Singleton);
        services.AddSingleton<ReaderDataChanges>();

        var dataDirectory = builder.Configuration["App:DataDirectory"] is { Length: > 0 } d ? d : "data";
        services.AddDataProtection()
            .SetApplicationName("NewsletterMigrator")
            .PersistKeysToFileSystem(new DirectoryInfo(KeyRingFolder(dataDirectory)));

        services.AddSingleton(sp => KeyRing.Load(sp.GetRequiredService<IOptions<AppOptions>>(), sp.GetRequiredService<ILogger<KeyRing>>()));
        services.AddSingleton<PhoneProtector>();
        services.AddSingleton<TokenService>();
        // The instance id lives in the data folder beside the database; the workers' leases carry it.
        services.AddSingleton<InstanceIdentity>();

        // SQLite's page caches and statements are native memory; glibc keeps what it frees unless asked.
        services.AddHostedService<NativeHeapTrimmer>();

        services.AddHealthChecks()
            .AddDbContextCheck<AppDbContext>("database")
            .AddCheck<KeyHealthCheck>("master-key");
        return builder;
    }

    /// <summary>Where ASP.NET Data Protection keeps its key ring (cookies, antiforgery): backed up with the database.</summary>
    public static string KeyRingFolder(string dataDirectory) => Path.Combine(dataDirectory, "keys");

    /// <summary>The SQLite file a connection string names, as a full path.</summary>
    public static string DatabaseFile(string connectionString) => Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);

    /// <summary>Applies EF migrations (never EnsureCreated) and switches SQLite to WAL.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var connectionString = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString;
        var file = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder) Directory.CreateDirectory(folder);
        await db.Database.MigrateAsync();
        // EF sets WAL only for files it creates itself; readers must never wait for the sending worker.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        // A wrong master key stops start-up here, not months later when the numbers are needed.
        if (!await KeyHealthCheck.KeyMatchesAsync(db, app.Services.GetRequiredService<PhoneProtector>()))
            throw new OptionsValidationException("App:MasterKey", typeof(AppOptions),
                ["App:MasterKey is not the key this database was created with. Restore the key that belongs to this database (it is needed to read phone numbers and links)."]);
    }
}
