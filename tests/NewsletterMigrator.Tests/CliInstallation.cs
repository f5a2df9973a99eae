using System.Globalization;
using System.Security.Cryptography;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// An installation for the command-line verbs: a temporary data folder with its own master key, a SQLite file and a mail
/// pickup folder, run as the real program in Production (<see cref="AppProcess"/>); the folder is deleted on dispose.
/// </summary>
public sealed class CliInstallation : IDisposable
{
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string DataFolder { get; } = Directory.CreateTempSubdirectory("nm-cli-").FullName;

    private string DatabaseFile => Path.Combine(DataFolder, "cli.db");

    public Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => AppProcess.RunAsync(args, new Dictionary<string, string?>
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["App__DataDirectory"] = DataFolder,
        ["App__MasterKey"] = _masterKey,
        ["Database__ConnectionString"] = $"Data Source={DatabaseFile}",
        ["Smtp__PickupDirectory"] = Path.Combine(DataFolder, "pickup"),
    }, DataFolder);

    /// <summary>The first row of <paramref name="sql"/> from the database file the verbs wrote, each value as invariant text ("" for NULL).</summary>
    public async Task<string[]> RowAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabaseFile};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return [.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!)];
    }

    public void Dispose()
    {
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { }
    }
}
