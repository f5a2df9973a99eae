using System.Globalization;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Api;

/// <summary>
/// <c>create-api-key</c>: the key alone on standard output, so a deployment can capture it
/// (<c>KEY=$(… create-api-key …)</c>); the summary and every refusal go to standard error.
/// </summary>
public static class ApiKeyVerb
{
    public const string Usage =
        "create-api-key --name <name> --scopes <scope,scope> [--newsletter <slug>]... [--expires <yyyy-MM-dd>]";

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        var name = CommandLine.Option(args, "--name");
        var scopes = CommandLine.Option(args, "--scopes");
        if (name is null || scopes is null)
            return Fail(errors, $"Usage: {Usage}\nScopes: {string.Join(", ", ApiScopes.All)}");
        DateTime? expires = null;
        if (CommandLine.Option(args, "--expires") is { } text)
        {
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                return Fail(errors, $"--expires: '{text}' is not a date like 2027-12-31; nothing created.");
            expires = Berlin.EndOfDayUtc(date); // a date means the end of that day in Berlin, like the migration end
        }
        var slugs = args.Select((a, i) => (a, i)).Where(x => x.a == "--newsletter" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToList();
        var created = await services.GetRequiredService<ApiKeyService>().CreateAsync(name, [scopes], slugs, expires, "command line");
        if (created.Refusal is { } refusal) return Fail(errors, RefusalText(refusal, created.About) + " Nothing was created.");

        var key = created.Key!;
        errors.WriteLine($"API key '{key.Name}' ({key.Prefix}…) created with {key.Scopes.Replace(" ", ", ")}"
            + (slugs.Count > 0 ? $" for {string.Join(", ", slugs)}" : " for every newsletter")
            + (expires is { } e ? $", valid until {Berlin.Format(e)} (Berlin)" : "") + ". It is shown only now: store it safely.");
        output.WriteLine(created.Secret);
        return 0;
    }

    public static string RefusalText(ApiKeyRefusal refusal, string? about) => refusal switch
    {
        ApiKeyRefusal.NameMissing => "--name: a name is required.",
        ApiKeyRefusal.NameTooLong => $"--name: at most {about} characters.",
        ApiKeyRefusal.NameTaken => $"--name: a key named '{about}' exists already (also a revoked one keeps its name).",
        ApiKeyRefusal.NoScope => $"--scopes: name at least one of {string.Join(", ", ApiScopes.All)}.",
        ApiKeyRefusal.UnknownScope => $"--scopes: unknown scope {about}; use {string.Join(", ", ApiScopes.All)}.",
        ApiKeyRefusal.UnknownNewsletter => $"--newsletter: no newsletter with the slug {about}.",
        ApiKeyRefusal.ExpiryPassed => "--expires: the date has passed.",
        _ => refusal.ToString(),
    };

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 1;
    }
}
