namespace NewsletterMigrator.Data;

/// <summary>
/// The one owner of the outbox's Message-ID format: 32 lower-case hex digits (128 random bits), '@', the installation's
/// public host (<c>App:PublicBaseUrl</c>). Made once per outbox row when it is written and kept for every attempt, so a
/// resend after a crash carries the same Message-ID and is recognisable as a duplicate, and a bounce or complaint that
/// quotes it finds its row. Rows are written one at a time in C# (<see cref="New"/>) and by the thousand in SQL by the
/// campaign fan-out (<see cref="SqliteSql"/>, <see cref="PostgresSql"/>); all make the same shape, and a test holds them to it.
/// It lives in Data/ because the providers' bulk SQL (<see cref="IBulkSql"/>) makes it too.
/// </summary>
public static class MessageIds
{
    public static string New(string host) => $"{Guid.NewGuid():N}@{host}";

    /// <summary>The same shape as <see cref="New"/> made by SQLite, for an INSERT ... SELECT that writes many rows.</summary>
    /// <param name="hostParameter">The SQL parameter (e.g. <c>$host</c>) that holds the host.</param>
    public static string SqliteSql(string hostParameter) => $"lower(hex(randomblob(16))) || '@' || {hostParameter}";

    /// <summary>The same shape made by PostgreSQL (13 and later, no extension needed).</summary>
    public static string PostgresSql(string hostParameter) => $"replace(gen_random_uuid()::text, '-', '') || '@' || {hostParameter}";
}
