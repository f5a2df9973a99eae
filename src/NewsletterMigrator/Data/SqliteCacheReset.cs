using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace NewsletterMigrator.Data;

/// <summary>
/// Puts SQLite's page cache back to its default (about 2 MB) whenever EF opens a connection. Pooled
/// connections keep their pragmas: the importer raises the cache to 64 MB for its own connection,
/// and without this reset that connection would go on holding up to 64 MB of pages for whatever
/// borrows it next (a sending campaign, a page view), for the life of the process. Code that wants a
/// bigger cache sets it after opening, as the importer does.
/// </summary>
internal sealed class SqliteCacheReset : DbConnectionInterceptor
{
    private const string Reset = "PRAGMA cache_size = -2000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Reset;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Reset;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
