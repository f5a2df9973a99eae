using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace NewsletterMigrator.Data;

/// <summary>
/// Lets SQLite itself wait for a busy write lock (its busy handler retries within a millisecond or so of the lock
/// coming free). Without it, Microsoft.Data.Sqlite retries a busy statement after sleeping 150 ms each time: simultaneous
/// sign-ups of one address, which queue for the lock on purpose (<see cref="RowLocks"/>), took up to 780 ms in a burst
/// of 8 where each holds the lock for about 2 ms (bench: sign-up). The pragma belongs to the native connection and
/// costs one statement per open.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    // Below Microsoft.Data.Sqlite's own 30-second command timeout, whose slower retries still follow.
    private const string Pragma = "PRAGMA busy_timeout = 10000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private static void Apply(DbConnection connection)
    {
        if (connection is not SqliteConnection) return;
        using var command = connection.CreateCommand();
        command.CommandText = Pragma;
        command.ExecuteNonQuery();
    }
}
