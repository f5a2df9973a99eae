using System.Text.Json;
using Microsoft.EntityFrameworkCore;
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
            await app.MigrateDatabaseAsync();
            await using var scope = app.Services.CreateAsyncScope();
            var services = scope.ServiceProvider;
            return args[0] switch
            {
                "migrate" => Done("Database migrated."),
                "create-admin" => await CreateAdminAsync(services, args),
                "create-newsletter" => await NewsletterVerbs.CreateAsync(services, args, Console.Out, Console.Error),
                "update-newsletter" => await NewsletterVerbs.UpdateAsync(services, args, Console.Out, Console.Error),
                "import" => await ImportAsync(services, args),
                _ => Fail($"Unknown command '{args[0]}'. Commands: migrate, create-admin <email>, {NewsletterVerbs.Usage}, import --newsletter <slug> <file> [--dry-run] [--json]"),
            };
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ImportFormatException or UnauthorizedAccessException)
        {
            return Fail(ex.Message);
        }
    }

    private static async Task<int> CreateAdminAsync(IServiceProvider services, string[] args)
    {
        if (args.Length < 2) return Fail("Usage: create-admin <email>  (password from NM_ADMIN_PASSWORD or standard input)");
        var email = args[1];
        var password = Environment.GetEnvironmentVariable("NM_ADMIN_PASSWORD");
        if (string.IsNullOrEmpty(password))
        {
            if (!Console.IsInputRedirected) Console.Error.Write("Password: ");
            password = Console.ReadLine();
        }
        if (string.IsNullOrEmpty(password)) return Fail("No password given: set NM_ADMIN_PASSWORD or pipe it to standard input.");
        var result = await services.GetRequiredService<StaffAccounts>().CreateAsync(email, password, Roles.Admin, "create-admin");
        return result.Succeeded
            ? Done($"Admin account {email} created.")
            : Fail("Could not create the account: " + string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    private static async Task<int> ImportAsync(IServiceProvider services, string[] args)
    {
        var slug = Option(args, "--newsletter");
        var json = args.Contains("--json");
        var dryRun = args.Contains("--dry-run");
        var file = args.Skip(1).Where((a, i) => !a.StartsWith("--") && (i == 0 || args[i] != "--newsletter")).FirstOrDefault();
        if (slug is null || file is null) return Fail("Usage: import --newsletter <slug> <file> [--dry-run] [--json]");
        var db = services.GetRequiredService<AppDbContext>();
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Slug == slug);
        if (newsletter is null) return Fail($"No newsletter with the slug '{slug}'.");
        if (!File.Exists(file)) return Fail($"File not found: {file}");

        await using var stream = File.OpenRead(file);
        var summary = await services.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, stream, file, "command line", dryRun: dryRun);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                rows = summary.Rows, imported = summary.Imported, duplicates = summary.Duplicates, invalid = summary.Invalid, reasons = summary.Reasons,
            }));
        }
        else
        {
            Console.WriteLine($"{(dryRun ? "Dry run: " : "")}{summary.Rows} rows read, {summary.Imported} imported, {summary.Duplicates} duplicates, {summary.Invalid} invalid");
            foreach (var (reason, count) in summary.Reasons) Console.WriteLine($"  {reason}: {count}");
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
