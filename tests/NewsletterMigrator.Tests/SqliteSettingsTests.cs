using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>ARCHITECTURE.md, "SQLite under load": WAL, synchronous=NORMAL and a busy timeout on every connection the app opens.</summary>
public sealed class SqliteSettingsTests
{
    [Fact]
    public async Task Every_connection_of_the_app_runs_in_WAL_with_synchronous_NORMAL_and_a_busy_timeout()
    {
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite);
        var (journal, synchronous, busyTimeout) = await app.WithDbAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            try
            {
                return (await Pragma(db, "journal_mode"), await Pragma(db, "synchronous"), await Pragma(db, "busy_timeout"));
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });
        Assert.Equal("wal", journal);
        Assert.Equal("1", synchronous); // NORMAL; SQLite's default is FULL (2)
        Assert.Equal("10000", busyTimeout);
    }

    private static async Task<string> Pragma(Microsoft.EntityFrameworkCore.DbContext db, string name)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}
