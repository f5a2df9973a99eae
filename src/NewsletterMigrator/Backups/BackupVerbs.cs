using System.Globalization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Backups;

/// <summary><c>backup &lt;file&gt; [--force]</c> and <c>restore &lt;file&gt;</c>: the operator's words around BackupWriter and BackupRestorer.</summary>
public static class BackupVerbs
{
    public const string Usage = "backup <file> [--force], restore <file>";

    private const string MasterKeyWarning =
        "The master key (App:MasterKey) is NOT in the archive: keep App:MasterKey safe separately. Without it the phone numbers, personal links and staff sign-in keys in this backup cannot be read.";

    /// <summary>
    /// Both verbs work on a SQLite file and a data folder. A PostgreSQL installation has its own tools, which see every
    /// table including the key ring, and a copy of one instance's data folder would restore nothing of the others.
    /// </summary>
    private static string? PostgresRefusal(IServiceProvider services, string verb) =>
        services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
            ? $"{verb} is for a SQLite installation, and Database:Provider is Postgres: nothing was {(verb == "backup" ? "written" : "restored")}. " +
              "Back up PostgreSQL with pg_dump (pg_dump --format=custom --file=newsletter.dump <database>) and restore with pg_restore into an empty database " +
              "(see README, \"Backups on PostgreSQL\"). The dump holds the Data Protection keys too; keep App:MasterKey safe separately, as for a SQLite backup."
            : null;

    public static async Task<int> BackupAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        if (PostgresRefusal(services, "backup") is { } refusal) return Fail(errors, refusal);
        var file = args.Skip(1).FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (file is null) return Fail(errors, "Usage: backup <file> [--force]  (writes a zip with the database, the Data Protection keys and a manifest)");
        var outcome = await services.GetRequiredService<BackupWriter>().WriteAsync(file, args.Contains("--force"), "command line");
        switch (outcome.Status)
        {
            case BackupStatus.FileExists:
                return Fail(errors, $"{outcome.Path} exists already: nothing was written. Choose another name, or add --force to replace it.");
            case BackupStatus.FolderMissing:
                return Fail(errors, $"The folder of {outcome.Path} does not exist: nothing was written.");
            case BackupStatus.WrongKey:
                return Fail(errors, $"App:MasterKey cannot read this database ({outcome.Path}): it is not the key the database was created with, and the archive's key ring would be sealed with it. Run backup with the app's own settings; nothing was written.");
            case BackupStatus.AlreadyRunning:
                return Fail(errors, $"Another backup of {outcome.Path} is running: nothing was written. Let it finish, then try again.");
            case BackupStatus.TargetBusy:
                return Fail(errors, $"Another backup is writing {outcome.Path} right now: nothing was written. Let it finish, or choose another name.");
            case BackupStatus.DatabaseMissing:
                return Fail(errors, $"No database at {outcome.Path}: nothing was written. Check App:DataDirectory and Database:ConnectionString (the app's data folder, as the running app sees it).");
        }
        var manifest = outcome.Manifest!;
        output.WriteLine(Invariant($"Backup written: {outcome.Path} ({BackupArchive.Size(outcome.SizeBytes)}) in {outcome.Duration.TotalSeconds:0.0} s."));
        output.WriteLine(Invariant($"  Snapshot of {manifest.CreatedAtUtc:yyyy-MM-dd HH:mm:ss} UTC, schema {manifest.SchemaMigration}, app {manifest.AppVersion}."));
        output.WriteLine("  " + Counts(manifest));
        output.WriteLine(Invariant($"  Data Protection keys: {manifest.Files.Count(f => BackupArchive.IsKeyEntry(f.Path))} file(s), sealed with a key derived from App:MasterKey."));
        output.WriteLine(MasterKeyWarning);
        return 0;
    }

    public static async Task<int> RestoreAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        if (PostgresRefusal(services, "restore") is { } refusal) return Fail(errors, refusal);
        var file = args.Skip(1).FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (file is null) return Fail(errors, "Usage: restore <file>  (into an empty data folder, with the master key the backup was made with)");
        var outcome = await services.GetRequiredService<BackupRestorer>().RestoreAsync(file);
        const string nothing = " Nothing was restored.";
        switch (outcome.Status)
        {
            case RestoreStatus.FileMissing:
                return Fail(errors, $"File not found: {outcome.Detail}." + nothing);
            case RestoreStatus.NotEmpty:
                return Fail(errors, $"The data folder is not empty ({outcome.Detail}): restore only into an empty data folder (App:DataDirectory, Database:ConnectionString), so nothing is overwritten." + nothing);
            case RestoreStatus.NoMasterKey:
                return Fail(errors, "App:MasterKey is not set: set the master key the backup was made with (App__MasterKey), or put the Development master.key of the backed-up data folder into the data folder." + nothing);
            case RestoreStatus.AlreadyRunning:
                return Fail(errors, $"Another restore into {outcome.Detail} is running: wait for it to finish, then check its result." + nothing);
            case RestoreStatus.Damaged:
                return Fail(errors, $"The archive is damaged or incomplete: {outcome.Detail.TrimEnd('.')}." + nothing);
            case RestoreStatus.Foreign:
                return Fail(errors, $"This is not a NewsletterMigrator backup: {outcome.Detail}." + nothing);
            case RestoreStatus.UnknownSchema:
                // Honest while the project ships one regenerated Initial migration: no other build knows another build's schema.
                return Fail(errors, $"The backup's database schema ({outcome.Detail}) is unknown to this build of the app (app {BackupWriter.AppVersion}): the backup was made by a different build. Restore it with the build that made it: app {outcome.Manifest!.AppVersion}." + nothing);
            case RestoreStatus.WrongKey:
                return Fail(errors, "App:MasterKey cannot read the restored data: it is not the key this backup was made with. Set the master key that belongs to the backup and restore again; the unpacked files were removed." + nothing);
        }
        var manifest = outcome.Manifest!;
        output.WriteLine(Invariant($"Restored the backup of {manifest.CreatedAtUtc:yyyy-MM-dd HH:mm:ss} UTC (schema {manifest.SchemaMigration}, app {manifest.AppVersion}) to {outcome.Detail}."));
        output.WriteLine("  " + Counts(manifest) + " (as in the manifest)");
        output.WriteLine(Invariant($"  Data Protection keys: {manifest.Files.Count(f => BackupArchive.IsKeyEntry(f.Path))} file(s), unsealed with App:MasterKey."));
        output.WriteLine($"  App:MasterKey opens {string.Join(", ", outcome.KeyChecks!)}.");
        output.WriteLine("Start the app on this data folder: it applies newer migrations, if any, at start-up.");
        return 0;
    }

    private static string Counts(BackupManifest manifest) =>
        string.Join(", ", manifest.Counts.Select(c => Invariant($"{c.Key} {c.Value}")));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 1;
    }
}
