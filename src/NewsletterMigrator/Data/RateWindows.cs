using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Data;

/// <summary>A fixed-window request counter shared by every instance on the database (<see cref="RateWindows"/>).</summary>
public sealed class RateWindow
{
    /// <summary>The purpose and a keyed hash of what is counted (a client network): never the address itself.</summary>
    public string Key { get; set; } = "";
    public DateTime WindowStartUtc { get; set; }
    public int Count { get; set; }
}

/// <summary>
/// Counts requests per key in fixed windows in the database, so a limit holds across all instances behind a load
/// balancer rather than once per instance (issue 18). One statement per request: an upsert that starts the window
/// afresh or adds one, and returns the count. Its SQL is the same on SQLite (3.35 and later) and PostgreSQL.
/// Windows that have ended are swept at most once an hour per instance.
/// </summary>
public sealed class RateWindows(AppDbContext db, KeyRing keys, TimeProvider clock)
{
    private static long _nextSweepTicks;

    /// <summary>Counts one request for <paramref name="subject"/>; false when it is over <paramref name="limit"/> in this window.</summary>
    public async Task<bool> TryTakeAsync(string purpose, string subject, int limit, TimeSpan window, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var start = new DateTime(now.Ticks - now.Ticks % window.Ticks, DateTimeKind.Utc);
        var key = $"{purpose}:{Convert.ToHexStringLower(HMACSHA256.HashData(keys.RateWindowKey, Encoding.UTF8.GetBytes(subject)))[..40]}";
        var count = await db.Database.SqlQuery<int>($"""
            INSERT INTO "RateWindows" ("Key", "WindowStartUtc", "Count") VALUES ({key}, {start}, 1)
            ON CONFLICT ("Key") DO UPDATE SET
                "Count" = CASE WHEN "RateWindows"."WindowStartUtc" = excluded."WindowStartUtc" THEN "RateWindows"."Count" + 1 ELSE 1 END,
                "WindowStartUtc" = excluded."WindowStartUtc"
            RETURNING "Count" AS "Value"
            """).ToListAsync(ct);
        await SweepIfDueAsync(now, ct);
        return count.Single() <= limit;
    }

    private async Task SweepIfDueAsync(DateTime now, CancellationToken ct)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now.Ticks < due || Interlocked.CompareExchange(ref _nextSweepTicks, now.AddHours(1).Ticks, due) != due) return;
        var cutoff = now.AddDays(-1);
        await db.RateWindows.Where(w => w.WindowStartUtc < cutoff).ExecuteDeleteAsync(ct);
    }
}
