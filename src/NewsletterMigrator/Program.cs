using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using NewsletterMigrator;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

// First, before any thread allocates: an arena a thread has taken stays in use (see NativeHeap).
NativeHeap.LimitMallocArenas();

// The content root is the working directory: the repository root under `dotnet run` (RunWorkingDirectory),
// the publish folder in a container.
var builder = WebApplication.CreateBuilder(args);

// A verb's standard output is its result (e.g. JSON): log lines go to standard error.
if (CommandLine.IsVerb(args)) builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

// Configuration, validated at start-up: a wrong value stops the app with a message naming the key.
builder.AddValidatedOptions();

// Storage: SQLite through EF Core, ASP.NET Data Protection keys in the data folder, health checks.
builder.AddStorage();

// Staff sign-in: ASP.NET Core Identity with the roles Admin and Editor.
builder.AddStaffIdentity();

// The journey: import, invitations, consent, sending, campaigns, subscribers.
builder.AddNewsletterFeatures();

// Web: Razor Pages in German and English, security headers, reverse-proxy support.
builder.AddWebFrontEnd();

var app = builder.Build();

try
{
    // Every option is validated before anything runs, for the web app and for each verb alike.
    app.Services.GetRequiredService<IStartupValidator>().Validate();

    // Command-line verbs (create-admin, create-newsletter, import, migrate) run instead of the web app.
    if (CommandLine.IsVerb(args))
        return await CommandLine.RunAsync(app, args);

    await app.MigrateDatabaseAsync();
    app.UseWebFrontEnd();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ConfigurationFailures(ex) is { } failures)
{
    // A wrong setting stops start-up with the key named, not with a stack trace.
    Console.Error.WriteLine("Configuration error: " + string.Join(Environment.NewLine, failures));
    return 1;
}

// What a wrong setting says: the validators' failures (several sections wrong at once arrive together, each naming its
// keys), or the binder's own message, which names the key (e.g. 'Smtp:Security'); null for any other exception.
static IEnumerable<string>? ConfigurationFailures(Exception ex) => ex switch
{
    OptionsValidationException invalid => invalid.Failures,
    AggregateException many when many.InnerExceptions.All(e => e is OptionsValidationException) =>
        many.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures),
    InvalidOperationException binder when binder.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [binder.Message],
    _ => null,
};

/// <summary>Lets the test projects start the app through WebApplicationFactory.</summary>
public partial class Program;
