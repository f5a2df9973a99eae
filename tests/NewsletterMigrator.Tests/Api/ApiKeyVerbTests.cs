using System.Net;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary><c>create-api-key</c> run as the real program: the key alone on standard output, the summary on standard error.</summary>
public sealed class ApiKeyVerbTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("nm-cli-api-").FullName;
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    private string Database => $"Data Source={Path.Combine(_data, "cli.db")}";

    private Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => AppProcess.RunAsync(args, new Dictionary<string, string?>
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["App__DataDirectory"] = _data,
        ["App__MasterKey"] = _masterKey,
        ["Database__Provider"] = "Sqlite",
        ["Database__ConnectionString"] = Database,
        ["Smtp__PickupDirectory"] = Path.Combine(_data, "pickup"),
    }, _data);

    [Fact]
    public async Task Create_api_key_prints_only_the_key_which_then_works_with_its_scope_and_newsletter()
    {
        Assert.Equal(0, (await RunAsync("create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test")).ExitCode);
        Assert.Equal(0, (await RunAsync("create-newsletter", "--slug", "sport", "--name", "Sport", "--from", "sport@example.test")).ExitCode);

        var run = await RunAsync("create-api-key", "--name", "cms", "--scopes", "stats:read,campaigns:read", "--newsletter", "eilmeldungen", "--expires", "2099-12-31");

        Assert.True(run.ExitCode == 0, run.Error);
        var key = run.Output.TrimEnd('\n', '\r');
        Assert.Matches("^nmk_[A-Za-z0-9_-]{43}$", key); // the key and nothing else
        Assert.Contains("API key 'cms'", run.Error);
        Assert.Contains("campaigns:read, stats:read", run.Error);
        Assert.Contains("31.12.2099 23:59", run.Error);

        // The same database served by the app: the key reads its newsletter's figures, nothing more.
        await using var app = new AppFactory(settings: new()
        {
            ["App:MasterKey"] = _masterKey, ["Database:Provider"] = "Sqlite", ["Database:ConnectionString"] = Database,
        }, provider: Common.DatabaseProvider.Sqlite);
        var client = app.ApiClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/newsletters/eilmeldungen/statistics")).StatusCode);
        await (await client.GetAsync("/api/v1/newsletters/sport/statistics")).ProblemAsync(404, "not-found");
        await (await client.PostJsonAsync(ApiSteps.Campaigns(), new { subject = "x", markdown = "y" })).ProblemAsync(403, "missing-scope");
        Assert.True(await app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == "command line" && a.Action == "api-key")));
    }

    [Theory]
    [InlineData("--scopes|stats:read", "Usage: create-api-key")]
    [InlineData("--name|cms|--scopes|stats:read,feeds:everything", "--scopes: unknown scope feeds:everything")]
    [InlineData("--name|cms|--scopes|stats:read|--newsletter|nixda", "--newsletter: no newsletter with the slug nixda")]
    [InlineData("--name|cms|--scopes|stats:read|--expires|31.12.2099", "--expires: '31.12.2099' is not a date")]
    [InlineData("--name|cms|--scopes|stats:read|--expires|2000-01-01", "--expires: the date has passed")]
    public async Task Bad_input_exits_non_zero_with_a_message_and_creates_nothing(string arguments, string message)
    {
        var run = await RunAsync(["create-api-key", .. arguments.Split('|')]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.Equal("", run.Output);
        await using var db = new NewsletterMigrator.Data.SqliteAppDbContext(new DbContextOptionsBuilder<NewsletterMigrator.Data.SqliteAppDbContext>().UseSqlite(Database).Options);
        Assert.Equal(0, await db.ApiKeys.CountAsync());
    }
}
