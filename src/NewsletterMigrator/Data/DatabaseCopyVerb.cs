using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Data;

/// <summary><c>copy-database --to "&lt;PostgreSQL connection string&gt;"</c>: the operator's words around <see cref="DatabaseCopy"/>.</summary>
public static class DatabaseCopyVerb
{
    public const string Usage = "copy-database --to \"<PostgreSQL connection string>\"";

    public static async Task<int> RunAsync(WebApplication app, string[] args, TextWriter output, TextWriter errors)
    {
        var to = CommandLine.Option(args, "--to");
        if (string.IsNullOrWhiteSpace(to))
            return Fail(errors, $"Usage: {Usage}  (copies this SQLite installation into an empty PostgreSQL database; run it with the app stopped)");
        var database = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (database.Provider != DatabaseProvider.Sqlite)
            return Fail(errors, "Database:Provider is Postgres: copy-database copies a SQLite installation. Run it with the settings of the SQLite installation (Database:Provider Sqlite, its Database:ConnectionString); nothing was copied.");
        NpgsqlConnectionStringBuilder target;
        try
        {
            target = new NpgsqlConnectionStringBuilder(to);
        }
        catch (ArgumentException ex)
        {
            return Fail(errors, $"--to is not a PostgreSQL connection string ({ex.Message}), e.g. \"Host=db;Database=newsletter;Username=newsletter;Password=...\"; nothing was copied.");
        }
        if (string.IsNullOrWhiteSpace(target.Host) || string.IsNullOrWhiteSpace(target.Database))
            return Fail(errors, "--to must name Host and Database, e.g. \"Host=db;Database=newsletter;Username=newsletter;Password=...\"; nothing was copied.");
        // The password never reaches the screen or a log.
        var where = $"PostgreSQL {target.Host}:{target.Port}/{target.Database}";
        var sourceFile = StorageSetup.DatabaseFile(database.ConnectionString);
        // Migrating would create an empty database at a mistyped path, and the copy would be an empty installation.
        if (!File.Exists(sourceFile))
            return Fail(errors, $"No database at {sourceFile}: nothing was copied. Check App:DataDirectory and Database:ConnectionString (the SQLite installation's settings).");

        var copy = ActivatorUtilities.CreateInstance<DatabaseCopy>(app.Services);
        // The target first: a refused copy changes nothing, neither there nor in the source.
        if (await copy.CheckTargetAsync(to) is { } refused) return Refused(errors, refused, where);

        // The source at this build's schema, with an older version's key folder taken into its key table, as at start-up:
        // the target gets this build's PostgreSQL migrations, and the keys travel as rows.
        await app.MigrateDatabaseAsync();
        output.WriteLine($"Copying {sourceFile} to {where} (one snapshot, one transaction) …");
        var outcome = await copy.CopyAsync(database.ConnectionString, to, output);
        if (outcome.Status is not (CopyStatus.Copied or CopyStatus.CountMismatch)) return Refused(errors, outcome, where);

        output.WriteLine();
        output.WriteLine($"{"Table",-28} {"SQLite",12} {"PostgreSQL",12}");
        foreach (var table in outcome.Tables!.OrderBy(t => t.Name, StringComparer.Ordinal))
            output.WriteLine(Invariant($"{table.Name,-28} {table.Source,12:N0} {table.Target,12:N0}{(table.Source == table.Target ? "" : "   MISMATCH")}"));
        if (outcome.Status == CopyStatus.CountMismatch)
            return Fail(errors, $"The row counts differ in {outcome.Detail}: the copy was rolled back, {where} is as empty as before. Nothing in the SQLite installation changed.");

        var seconds = Math.Max(outcome.Duration.TotalSeconds, 0.001);
        output.WriteLine(Invariant($"Copied {outcome.Tables!.Count} tables, {outcome.Rows:N0} rows in {outcome.Duration.TotalSeconds:0.0} s ({outcome.Rows / seconds:N0} rows/s); every count matches."));
        output.WriteLine($"Next: start the app with Database__Provider=Postgres, Database__ConnectionString set to {where}, and the same App__MasterKey. Keep the SQLite file until the new installation has been checked.");
        return 0;
    }

    private static int Refused(TextWriter errors, CopyOutcome outcome, string where) => outcome.Status switch
    {
        CopyStatus.TargetNotEmpty => Fail(errors, $"{where} is not empty: it holds {outcome.Detail}. copy-database fills only an empty database (no tables of this app, no migration history), so nothing was copied. Create a new database (CREATE DATABASE … OWNER …) or drop and recreate this one if it holds nothing you need."),
        CopyStatus.SourceUnreadable => Fail(errors, $"The SQLite database cannot be read: {outcome.Detail}. Nothing was copied ({where} is as empty as before)."),
        CopyStatus.Unsupported => Fail(errors, $"This build cannot copy the column {outcome.Detail}; nothing was copied."),
        _ => Fail(errors, $"{where}: {outcome.Detail}. Nothing was copied (a copy under way is rolled back as a whole); the SQLite installation's data is unchanged."),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 1;
    }
}
