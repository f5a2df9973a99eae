using System.Diagnostics;

namespace NewsletterMigrator.Testing;

/// <summary>
/// Runs the real program (the built NewsletterMigrator.dll next to the tests) in a process of its own, as an operator,
/// a cron job or a container does: the command-line verbs are tested through their exit code and their output.
/// </summary>
public static class AppProcess
{
    /// <param name="environment">Settings as environment variables (e.g. <c>App__DataDirectory</c>); null removes one.</param>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, IReadOnlyDictionary<string, string?> environment,
        string workingDirectory, string? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "NewsletterMigrator.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        // A password for create-admin must come from the test, never from the machine running it.
        start.Environment.Remove("NM_ADMIN_PASSWORD");
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output, await error);
    }
}
