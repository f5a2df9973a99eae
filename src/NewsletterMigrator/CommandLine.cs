using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Backups;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator;

/// <summary>Verbs for operators and containers; each prints a summary and exits non-zero on failure.</summary>
public static class CommandLine
{
    public static bool IsVerb(string[] args) => args.Length > 0 && !args[0].StartsWith('-');

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        try
        {
            // Before the migration, which would create the very database a restore must find absent, and which a
            // backup must neither create (a mistyped data folder would give an archive of an empty database) nor change.
            if (args[0] is "restore" or "backup") return await BackupVerbAsync(app, args);
            // Before the migration too: it checks the target and the source's provider first, so a refused copy changes nothing.
            if (args[0] is "copy-database") return await DatabaseCopyVerb.RunAsync(app, args, Console.Out, Console.Error);
            await app.MigrateDatabaseAsync();
            await using var scope = app.Services.CreateAsyncScope();
            var services = scope.ServiceProvider;
            return args[0] switch
            {
                "migrate" => Done("Database migrated."),
                "create-admin" => await CreateAdminAsync(services, args),
                "create-staff" => await CreateStaffAsync(services, args),
                "create-newsletter" => await NewsletterVerbs.CreateAsync(services, args, Console.Out, Console.Error),
                "update-newsletter" => await NewsletterVerbs.UpdateAsync(services, args, Console.Out, Console.Error),
                "import" => await ImportAsync(services, args),
                "suppress" => await SuppressAsync(services, args),
                "add-feed" => await Feeds.FeedVerbs.AddAsync(services, args, Console.Out, Console.Error),
                "create-api-key" => await Api.ApiKeyVerb.RunAsync(services, args, Console.Out, Console.Error),
                _ => Fail($"Unknown command '{args[0]}'. Commands: migrate, create-admin <email>, {CreateStaffUsage}, {NewsletterVerbs.Usage}, {ImportUsage}, {SuppressUsage}, {Feeds.FeedVerbs.Usage}, {Api.ApiKeyVerb.Usage}, {BackupVerbs.Usage}, {DatabaseCopyVerb.Usage}"),
            };
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ImportFormatException or UnauthorizedAccessException)
        {
            return Fail(ex.Message);
        }
    }

    private static async Task<int> BackupVerbAsync(WebApplication app, string[] args)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return args[0] == "backup"
            ? await BackupVerbs.BackupAsync(scope.ServiceProvider, args, Console.Out, Console.Error)
            : await BackupVerbs.RestoreAsync(scope.ServiceProvider, args, Console.Out, Console.Error);
    }

    private static async Task<int> CreateAdminAsync(IServiceProvider services, string[] args)
    {
        if (args.Length < 2) return Fail("Usage: create-admin <email>  (password from NM_ADMIN_PASSWORD or standard input)");
        var email = args[1];
        if (ReadPassword() is not { } password) return Fail("No password given: set NM_ADMIN_PASSWORD or pipe it to standard input.");
        var result = await services.GetRequiredService<StaffAccounts>().CreateAsync(email, password, Roles.Admin, "create-admin");
        return result.Succeeded
            ? Done($"Admin account {email} created.")
            : Fail("Could not create the account: " + string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    private const string CreateStaffUsage = "create-staff <email> --role Editor|Admin [--newsletter <slug>]...";

    /// <summary>A staff account with a password, an editor with the newsletters named (each --newsletter once).</summary>
    private static async Task<int> CreateStaffAsync(IServiceProvider services, string[] args)
    {
        var email = args.Length > 1 && !args[1].StartsWith("--") ? args[1] : null;
        var roleName = Option(args, "--role");
        if (email is null || roleName is null) return Fail("Usage: " + CreateStaffUsage + "  (password from NM_ADMIN_PASSWORD or standard input)");
        var role = Roles.All.FirstOrDefault(r => r.Equals(roleName, StringComparison.OrdinalIgnoreCase));
        if (role is null) return Fail($"Unknown role '{roleName}': use Editor or Admin.");
        var slugs = args.Select((a, i) => (a, i)).Where(x => x.a == "--newsletter" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).Distinct().ToList();
        if (role == Roles.Admin && slugs.Count > 0) return Fail("An admin sees every newsletter: --newsletter is for editors only.");
        var db = services.GetRequiredService<AppDbContext>();
        var newsletters = await db.Newsletters.AsNoTracking().Where(n => slugs.Contains(n.Slug)).Select(n => new { n.Id, n.Slug }).ToListAsync();
        if (slugs.Except(newsletters.Select(n => n.Slug)).ToList() is { Count: > 0 } unknown)
            return Fail($"No newsletter with the slug {string.Join(", ", unknown.Select(s => $"'{s}'"))}; nothing created.");
        if (ReadPassword() is not { } password) return Fail("No password given: set NM_ADMIN_PASSWORD or pipe it to standard input.");
        var result = await services.GetRequiredService<StaffAccounts>().CreateAsync(email, password, role, "create-staff", [.. newsletters.Select(n => n.Id)]);
        return result.Succeeded
            ? Done($"{role} account {email} created" + (slugs.Count > 0 ? $" for {string.Join(", ", slugs)}." : "."))
            : Fail("Could not create the account: " + string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    private static string? ReadPassword()
    {
        var password = Environment.GetEnvironmentVariable("NM_ADMIN_PASSWORD");
        if (string.IsNullOrEmpty(password))
        {
            if (!Console.IsInputRedirected) Console.Error.Write("Password: ");
            password = Console.ReadLine();
        }
        return string.IsNullOrEmpty(password) ? null : password;
    }

    private const string ImportUsage =
        "import --newsletter <slug> <file> --legal-basis \"<text>\" [--legal-basis-kind existing-consent|legitimate-interest|other] [--dry-run] [--json]";

    private const string SuppressUsage = "suppress <file> [--newsletter <slug>] [--json]";

    /// <summary>The options that take a value, so the file is the one argument that is neither an option nor its value.</summary>
    private static readonly string[] ValueOptions = ["--newsletter", "--legal-basis", "--legal-basis-kind"];

    private static string? FileArgument(string[] args) =>
        args.Skip(1).Where((a, i) => !a.StartsWith("--") && !ValueOptions.Contains(args[i])).FirstOrDefault();

    private static async Task<int> ImportAsync(IServiceProvider services, string[] args)
    {
        var slug = Option(args, "--newsletter");
        var json = args.Contains("--json");
        var dryRun = args.Contains("--dry-run");
        var file = FileArgument(args);
        if (slug is null || file is null) return Fail("Usage: " + ImportUsage);
        var basis = new ImportLegalBasis(Option(args, "--legal-basis-kind") ?? LegalBases.ExistingConsent, Option(args, "--legal-basis") ?? "").Trimmed();
        var db = services.GetRequiredService<AppDbContext>();
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Slug == slug);
        if (newsletter is null) return Fail($"No newsletter with the slug '{slug}'.");
        if (!dryRun)
        {
            // C16, C36: checked before the file is opened, so a refused import reads and stores nothing.
            var refusals = ImportRules.Check(newsletter, basis, DateTime.UtcNow);
            if (refusals.Count > 0) return Fail("Import refused, nothing stored:" + string.Concat(refusals.Select(r => "\n  " + RefusalText(r, slug))));
        }
        if (!File.Exists(file)) return Fail($"File not found: {file}");

        await using var stream = File.OpenRead(file);
        var summary = await services.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, stream, file, "command line", basis, dryRun: dryRun);
        if (summary.Refused) return Fail("Import refused, nothing stored:" + string.Concat(summary.Refusals.Select(r => "\n  " + RefusalText(r, slug))));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                rows = summary.Rows, imported = summary.Imported, duplicates = summary.Duplicates, invalid = summary.Invalid, reasons = summary.Reasons,
                notes = summary.Notes,
            }));
        }
        else
        {
            Console.WriteLine($"{(dryRun ? "Dry run: " : "")}{summary.Rows} rows read, {summary.Imported} imported, {summary.Duplicates} duplicates, {summary.Invalid} invalid");
            foreach (var (reason, count) in summary.Reasons) Console.WriteLine($"  {reason}: {count}");
            if (summary.Notes.Count > 0) Console.WriteLine("Noted in the report (further numbers of an entry, not imported):");
            foreach (var (reason, count) in summary.Notes) Console.WriteLine($"  {reason}: {count}");
            if (!dryRun) Console.WriteLine($"Legal basis recorded: {basis.Kind}: {basis.Text}");
        }
        return 0;
    }

    private static string RefusalText(ImportRefusal refusal, string slug) => refusal switch
    {
        ImportRefusal.LegalBasisMissing => "The legal basis is missing: add --legal-basis \"<text>\", e.g. --legal-basis \"existing WhatsApp newsletter consent, obtained until 2019-12-06\".",
        ImportRefusal.LegalBasisKindMissing => $"Unknown --legal-basis-kind: use one of {string.Join(", ", LegalBases.Kinds)}.",
        ImportRefusal.NoMigrationEnd => $"The newsletter has no migration end date (setting \"Migration end\"): set it in the admin area or with update-newsletter --slug {slug} --migration-end <yyyy-mm-dd>.",
        ImportRefusal.MigrationEnded => "The newsletter's migration end date has passed: no more imports (its numbers are deleted, its links have stopped).",
        _ => refusal.ToString(),
    };

    /// <summary>The old provider's opt-out list onto the suppression list (C36): numbers and addresses, with a row report.</summary>
    private static async Task<int> SuppressAsync(IServiceProvider services, string[] args)
    {
        var slug = Option(args, "--newsletter");
        var json = args.Contains("--json");
        var file = FileArgument(args);
        if (file is null) return Fail("Usage: " + SuppressUsage);
        var db = services.GetRequiredService<AppDbContext>();
        // Numbers without a country code are read in the newsletter's region (the first newsletter's without --newsletter).
        var region = slug is null
            ? await InstallationRegion.OfAsync(db)
            : await db.Newsletters.Where(n => n.Slug == slug).Select(n => n.DefaultRegion).SingleOrDefaultAsync();
        if (region is null) return Fail($"No newsletter with the slug '{slug}'.");
        if (!File.Exists(file)) return Fail($"File not found: {file}");

        await using var stream = File.OpenRead(file);
        var report = await services.GetRequiredService<Subscribers.OptOutListImport>().ImportAsync(stream, file, region, "command line");
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { rows = report.Rows, suppressed = report.Suppressed, already = report.Already, invalid = report.Invalid }));
        }
        else
        {
            Console.WriteLine($"{report.Rows} rows read, {report.Suppressed} suppressed, {report.Already} already on the suppression list, {report.Invalid} invalid");
            foreach (var issue in report.Issues) Console.WriteLine($"  line {issue.Line}: {issue.Reason}");
        }
        return 0;
    }

    internal static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int Done(string message)
    {
        Console.WriteLine(message);
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
