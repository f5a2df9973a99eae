using System.Security.Cryptography;
using Npgsql;

namespace NewsletterMigrator.Bench;

/// <summary>
/// A fresh, empty PostgreSQL database for one measured run, made through the maintenance database <c>postgres</c> on the
/// server that <c>--postgres</c> names and dropped WITH (FORCE) afterwards, so every run starts from the same state
/// (no bloat, no warm tables of an earlier run) and leaves nothing behind.
/// </summary>
internal sealed class BenchPostgres : IAsyncDisposable
{
    private readonly string _maintenance;

    private BenchPostgres(string maintenance, string name, string connectionString)
    {
        _maintenance = maintenance;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The new database's connection string, for the app's Database:ConnectionString.</summary>
    public string ConnectionString { get; }

    public string Name { get; }

    public static async Task<BenchPostgres> CreateAsync(string serverConnectionString)
    {
        var name = "nm_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var maintenance = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false }.ToString();
        await using (var connection = new NpgsqlConnection(maintenance))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new BenchPostgres(maintenance, name, new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await using (var pooled = new NpgsqlConnection(ConnectionString)) NpgsqlConnection.ClearPool(pooled);
        await using var connection = new NpgsqlConnection(_maintenance);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
