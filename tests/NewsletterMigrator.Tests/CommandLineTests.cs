using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The operator's verbs and start-up validation, run as the real program in its own process
/// (the built NewsletterMigrator.dll next to the tests) with settings from environment variables.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("nm-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Create_admin_create_newsletter_and_import_print_a_summary()
    {
        var admin = await RunAsync(["create-admin", "chef@example.test"], stdin: "a long admin password\n");
        Assert.True(admin.ExitCode == 0, admin.Error);
        Assert.Contains("chef@example.test", admin.Output);

        var newsletter = await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        Assert.True(newsletter.ExitCode == 0, newsletter.Error);

        var fixture = Path.Combine(FixtureImportTests.FixtureFolder(), "numbers.txt");
        var import = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--json"]);
        Assert.True(import.ExitCode == 0, import.Error);
        using var json = JsonDocument.Parse(import.Output);
        Assert.Equal(83, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(81, json.RootElement.GetProperty("imported").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("duplicates").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("invalid").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("reasons").EnumerateObject().Sum(p => p.Value.GetInt32()));

        var again = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture]);
        Assert.Contains("0 imported", again.Output);
    }

    [Fact]
    public async Task A_second_admin_with_a_short_password_is_refused_with_a_message()
    {
        var result = await RunAsync(["create-admin", "chef@example.test"], stdin: "short\n");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("12", result.Error); // "at least 12 characters", in the process's language
    }

    [Theory]
    [InlineData("Smtp__Port", "0", "Smtp:Port")]
    [InlineData("Smtp__MaxConnections", "0", "Smtp:MaxConnections")]
    [InlineData("Smtp__MessagesPerSecond", "-1", "Smtp:MessagesPerSecond")]
    [InlineData("Smtp__Security", "Sometimes", "Smtp:Security")]
    [InlineData("App__PublicBaseUrl", "not a url", "App:PublicBaseUrl")]
    [InlineData("App__MasterKey", "c2hvcnQ=", "App:MasterKey")]
    [InlineData("Database__ConnectionString", "Data Sauce=x", "Database:ConnectionString")]
    [InlineData("Retention__DailyAt", "25:99", "Retention:DailyAt")]
    [InlineData("WhatsApp__Enabled", "true", "WhatsApp:AccessToken")]
    [InlineData("Smtp__MessagesPerHour", "-5", "Smtp:MessagesPerHour")]
    [InlineData("Sending__RetryBackoffFactor", "0.5", "Sending:RetryBackoffFactor")]
    [InlineData("Sending__PauseAfterConsecutiveFailures", "-1", "Sending:PauseAfterConsecutiveFailures")]
    [InlineData("Sending__FanOutBatchSize", "0", "Sending:FanOutBatchSize")]
    [InlineData("Sending__UnsubscribeMailbox", "abmelden bei tagblatt", "Sending:UnsubscribeMailbox")]
    [InlineData("Dkim__PrivateKeyPath", "/nonexistent/dkim.pem", "Dkim:PrivateKeyPath '/nonexistent/dkim.pem' could not be read")]
    [InlineData("Dkim__Selector", "nl2026", "Dkim:PrivateKeyPath is empty")]
    [InlineData("Smtp__Host", "smtp.example.test", "Privacy:MailProvider")]
    public async Task A_wrong_setting_stops_start_up_with_a_message_naming_the_key(string variable, string value, string key)
    {
        var result = await RunAsync(["migrate"], environment: new() { [variable] = value });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(key, result.Error);
        Assert.DoesNotContain("   at ", result.Error); // a message, not a stack trace
    }

    [Fact]
    public async Task Production_refuses_to_start_without_master_key_or_mail_route()
    {
        var result = await RunAsync(["migrate"], environment: new() { ["App__MasterKey"] = "", ["Smtp__PickupDirectory"] = "" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("App:MasterKey", result.Error);
        Assert.Contains("Smtp:Host", result.Error);
    }

    [Fact]
    public async Task A_master_key_that_does_not_belong_to_the_database_stops_start_up()
    {
        Assert.Equal(0, (await RunAsync(["migrate"])).ExitCode);
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var result = await RunAsync(["migrate"], environment: new() { ["App__MasterKey"] = otherKey });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("App:MasterKey is not the key this database was created with", result.Error);
    }

    [Fact]
    public async Task Import_of_an_unreadable_file_exits_non_zero_with_a_message()
    {
        await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        var binary = Path.Combine(_data, "list.csv");
        await File.WriteAllBytesAsync(binary, [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF]);
        var result = await RunAsync(["import", "--newsletter", "eilmeldungen", binary]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("binary", result.Error);
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, string? stdin = null, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _data,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NewsletterMigrator.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["App__DataDirectory"] = _data;
        start.Environment["App__MasterKey"] = MasterKey;
        start.Environment["Database__ConnectionString"] = $"Data Source={Path.Combine(_data, "cli.db")}";
        start.Environment["Smtp__PickupDirectory"] = Path.Combine(_data, "pickup");
        start.Environment.Remove("NM_ADMIN_PASSWORD");
        foreach (var (k, v) in environment ?? []) start.Environment[k] = v;

        using var process = Process.Start(start)!;
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private readonly string MasterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
