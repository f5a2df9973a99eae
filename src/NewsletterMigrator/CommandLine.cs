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
                "create-newsletter" => await CreateNewsletterAsync(services, args),
                "import" => await ImportAsync(services, args),
                _ => Fail($"Unknown command '{args[0]}'. Commands: migrate, create-admin <email>, create-newsletter --slug <slug> --name <name> --from <address>, import --newsletter <slug> <file> [--dry-run] [--json]"),
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

    private static async Task<int> CreateNewsletterAsync(IServiceProvider services, string[] args)
    {
        var slug = Option(args, "--slug");
        var name = Option(args, "--name");
        var from = Option(args, "--from");
        if (slug is null || name is null || from is null) return Fail("Usage: create-newsletter --slug <slug> --name <name> --from <address>");
        if (!NewsletterService.IsValidSlug(slug)) return Fail("The slug may contain lower-case letters, digits and hyphens.");
        if (!Common.EmailAddress.TryNormalize(from, out var sender)) return Fail($"'{from}' is not a valid email address.");
        var newsletters = services.GetRequiredService<NewsletterService>();
        if (await newsletters.SlugTakenAsync(slug, null)) return Fail($"A newsletter with the slug '{slug}' exists already.");
        await newsletters.CreateAsync(new Newsletter { Slug = slug, Name = name, SenderName = name, SenderAddress = sender }, "command line");
        return Done($"Newsletter '{slug}' created. Add the Impressum and privacy notice in the admin area.");
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

    private static string? Option(string[] args, string name)
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
