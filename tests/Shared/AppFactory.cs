using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Testing;

/// <summary>
/// The real app on a temporary SQLite file (or, with <see cref="DatabaseProvider.Postgres"/>, a new database in the run's
/// throwaway PostgreSQL cluster, <see cref="TestPostgres"/>), delivering to a loopback SMTP server. With
/// <c>kestrel: true</c> it listens on a real port for the browser tests.
/// </summary>
public sealed class AppFactory : WebApplicationFactory<Program>
{
    private readonly string _environment;
    private readonly bool _ownsDataAndSmtp;
    private readonly bool _ownsDataDirectory;

    /// <param name="reuse">
    /// Another factory whose data folder, database, master key and SMTP server this one takes over,
    /// as a restarted process would (the crash tests), or as a second instance beside it would. The first factory keeps owning them.
    /// </param>
    /// <param name="provider">
    /// The database; a reused factory's provider wins. Unset: <see cref="DefaultProvider"/>, so the whole suite can run on
    /// PostgreSQL with TEST_DATABASE=Postgres (tests of what only SQLite has name it).
    /// </param>
    /// <param name="ownDataFolder">
    /// With <paramref name="reuse"/>: a second instance on another machine, sharing only the database, master key and SMTP
    /// server, with a data folder of its own (no shared key files, its own instance id).
    /// </param>
    public AppFactory(bool kestrel = false, Dictionary<string, string?>? settings = null, string environment = "Testing", AppFactory? reuse = null,
        DatabaseProvider? provider = null, bool ownDataFolder = false)
    {
        _environment = environment;
        _ownsDataAndSmtp = reuse is null;
        _ownsDataDirectory = reuse is null || ownDataFolder;
        Smtp = reuse?.Smtp ?? new TestSmtpServer();
        DataDirectory = reuse is not null && !ownDataFolder ? reuse.DataDirectory : Directory.CreateTempSubdirectory("nm-test-").FullName;
        MasterKey = reuse?.MasterKey ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        Provider = reuse?.Provider ?? provider ?? DefaultProvider;
        // Off the test's synchronisation context: a constructor cannot await, and xUnit's context has few threads.
        ConnectionString = reuse?.ConnectionString ?? (Provider == DatabaseProvider.Postgres
            ? Task.Run(async () => await (await TestPostgres.SharedAsync()).CreateDatabaseAsync()).GetAwaiter().GetResult()
            : $"Data Source={Path.Combine(DataDirectory, "test.db")}");
        Port = kestrel ? TestSmtpServer.FreePort() : 0;
        Settings = new Dictionary<string, string?>
        {
            ["App:PublicBaseUrl"] = kestrel ? $"http://127.0.0.1:{Port}" : "http://localhost",
            ["App:DataDirectory"] = DataDirectory,
            ["App:MasterKey"] = MasterKey,
            ["Database:Provider"] = Provider.ToString(),
            ["Database:ConnectionString"] = ConnectionString,
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = Smtp.Port.ToString(),
            ["Smtp:Security"] = "None",
            ["Smtp:MessagesPerSecond"] = "1000",
            ["Sending:PollInterval"] = "00:00:00.200",
            ["Sending:FirstRetryDelay"] = "00:00:01",
        };
        foreach (var (key, value) in settings ?? []) Settings[key] = value;
        if (kestrel)
        {
            UseKestrel(Port);
        }
    }

    public TestSmtpServer Smtp { get; }

    /// <summary>The database of a test that does not name one: SQLite, or PostgreSQL with TEST_DATABASE=Postgres.</summary>
    public static DatabaseProvider DefaultProvider { get; } =
        Enum.TryParse<DatabaseProvider>(Environment.GetEnvironmentVariable("TEST_DATABASE"), ignoreCase: true, out var chosen) ? chosen : DatabaseProvider.Sqlite;

    /// <summary>A reader's browser: a fresh cookie jar, redirects not followed, optionally an Accept-Language.</summary>
    public HttpClient ReaderClient(string? language = null)
    {
        var client = Port > 0 ? RealBrowser() : CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (language is not null) client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        return client;
    }
    /// <summary>With <c>kestrel: true</c>: a browser talking to the real server over a socket, with its own cookie jar.</summary>
    public HttpClient RealBrowser() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new System.Net.CookieContainer() })
            { BaseAddress = new Uri($"http://127.0.0.1:{(Port > 0 ? Port : throw new InvalidOperationException("Only a factory made with kestrel: true has a real server."))}") };

    public string DataDirectory { get; }
    public string MasterKey { get; }
    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }
    public int Port { get; }
    public Dictionary<string, string?> Settings { get; }

    /// <summary>
    /// The admin setting "require two-factor sign-in" this factory stores at start, as an admin would on the security
    /// page. Nobody by default: the tests of other features sign in with a password alone, as an installation whose
    /// admins chose so. The app's own default (admins) applies with null; the two-factor tests set what they test.
    /// </summary>
    public TwoFactorRequirement? TwoFactorPolicy { get; init; } = TwoFactorRequirement.Nobody;

    /// <summary>Replaces registrations after the app's own, e.g. the clock with a <see cref="SettableClock"/>.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.UseContentRoot(RepositoryRoot());
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(Settings));
        if (TestServices is not null) builder.ConfigureTestServices(TestServices);
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        if (TwoFactorPolicy is { } policy)
        {
            using var scope = host.Services.CreateScope();
            scope.ServiceProvider.GetRequiredService<AppDbContext>().StaffSecurityPolicies
                .Where(p => p.Id == StaffSecurityPolicy.SingleId)
                .ExecuteUpdate(u => u.SetProperty(p => p.RequireTwoFactor, policy));
        }
        return host;
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A scope for reading the database the way the app writes it.</summary>
    public async Task<TResult> WithDbAsync<TResult>(Func<AppDbContext, Task<TResult>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NewsletterMigrator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("NewsletterMigrator.sln not found above the test folder.");
    }

    /// <summary>Stops the app as a crash or redeploy would, keeping its database and SMTP server for a successor.</summary>
    public async Task StopHostAsync() => await base.DisposeAsync();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (!_ownsDataAndSmtp)
        {
            if (_ownsDataDirectory) try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
            return;
        }
        await Smtp.DisposeAsync();
        if (Provider == DatabaseProvider.Postgres) await (await TestPostgres.SharedAsync()).DropDatabaseAsync(ConnectionString);
        else Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Opens a factory's database without its host, as the next process would (after the host stopped).</summary>
public static class TestDatabases
{
    public static AppDbContext Open(AppFactory app) => app.Provider == DatabaseProvider.Postgres
        ? new PostgresAppDbContext(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql(app.ConnectionString).Options)
        : new SqliteAppDbContext(new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite(app.ConnectionString).Options);
}
