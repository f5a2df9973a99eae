using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// A save refused by a unique index or primary key: another request stored the same key first. Callers that
/// insert a row nobody could lock yet (a first sign-up) catch this and read again instead of answering 500.
/// </summary>
public static class UniqueViolation
{
    private const int SqliteUnique = 2067;     // SQLITE_CONSTRAINT_UNIQUE
    private const int SqlitePrimaryKey = 1555; // SQLITE_CONSTRAINT_PRIMARYKEY
    private const string PostgresUnique = "23505";

    public static bool Is(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqliteUnique or SqlitePrimaryKey,
        DbException other => other.SqlState == PostgresUnique,
        _ => false,
    };
}
