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
        // Every feature injects AppDbContext; the provider's subclass only carries that provider's migrations, and IBulkSql
        // that provider's SQL for the bulk paths (import, fan-out, outbox lease and results).
        var provider = ProviderOf(builder.Configuration);
        if (provider == DatabaseProvider.Postgres)
            services.AddDbContext<AppDbContext, PostgresAppDbContext>((sp, options) =>
                options.UseNpgsql(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString)
                    .AddInterceptors(ReaderDataSaves), optionsLifetime: ServiceLifetime.Singleton)
                .AddSingleton<IBulkSql, PostgresBulkSql>();
        else
            services.AddDbContext<AppDbContext, SqliteAppDbContext>((sp, options) =>
                options.UseSqlite(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString)
                    .AddInterceptors(ConnectionPragmas, ReaderDataSaves), optionsLifetime: ServiceLifetime.Singleton)
                .AddSingleton<IBulkSql, SqliteBulkSql>();
        services.AddSingleton<ReaderDataChanges>();
        services.AddScoped<RateWindows>();
        // "Run once across instances" (the retention run): a named lease in the database.
        services.AddSingleton<JobLeases>();

        // The key ring lives in the database, so a cookie or antiforgery token made by one instance is read by every other
        // one, and a backup of the database holds it. Keys an earlier version kept in the data folder are taken over at
        // start (KeyRingImport).
        services.AddDataProtection()
            .SetApplicationName("NewsletterMigrator")
            .PersistKeysToDbContext<AppDbContext>();

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

    /// <summary>The configured provider, for registrations that differ by it (read before the options exist).</summary>
    public static DatabaseProvider ProviderOf(IConfiguration configuration) =>
        configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;

    /// <summary>Where versions before issue 18 kept ASP.NET Data Protection's key ring; read once by <see cref="KeyRingImport"/>.</summary>
    public static string KeyRingFolder(string dataDirectory) => Path.Combine(dataDirectory, "keys");

    /// <summary>The SQLite file a connection string names, as a full path.</summary>
    public static string DatabaseFile(string connectionString) => Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);

    /// <summary>
    /// Applies EF migrations (never EnsureCreated) and switches SQLite to WAL. Several instances starting at once on
    /// PostgreSQL are safe: EF holds a database lock while it migrates, and the others find the migrations applied.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var database = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            var file = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder) Directory.CreateDirectory(folder);
        }
        await db.Database.MigrateAsync();
        // EF sets WAL only for files it creates itself; readers must never wait for the sending worker.
        if (database.Provider == DatabaseProvider.Sqlite) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        await KeyRingImport.ImportFolderAsync(db, KeyRingFolder(app.Services.GetRequiredService<IOptions<AppOptions>>().Value.DataDirectory),
            app.Services.GetRequiredService<ILogger<AppDbContext>>());
        // A wrong master key stops start-up here, not months later when the numbers are needed.
        if (!await KeyHealthCheck.KeyMatchesAsync(db, app.Services.GetRequiredService<PhoneProtector>()))
            throw new OptionsValidationException("App:MasterKey", typeof(AppOptions),
                ["App:MasterKey is not the key this database was created with. Restore the key that belongs to this database (it is needed to read phone numbers and links)."]);
    }
}
