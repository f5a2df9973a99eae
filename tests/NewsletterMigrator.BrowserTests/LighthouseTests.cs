using System.Diagnostics;
using System.Text.Json;
using NewsletterMigrator.Testing;
using Xunit.Abstractions;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// Issue 17, point 3: Lighthouse (npm, pinned in this folder's package.json) in its default mobile preset judges the
/// three pages a reader meets first: performance at least 95, accessibility 100, best practices at least 95.
/// The reports (HTML and JSON per page) are kept as files: bin/…/TestResults/lighthouse/ next to the test assembly, or
/// the folder in LIGHTHOUSE_REPORTS (.ci/run: TestResults/lighthouse at the repository root, kept as CI artifacts).
/// By hand, against a running app:
///   CHROME_PATH=/usr/bin/chromium tests/NewsletterMigrator.BrowserTests/node_modules/.bin/lighthouse http://127.0.0.1:5000/n/slug --view
/// </summary>
public sealed class LighthouseTests(ITestOutputHelper output) : BrowserTest
{
    [LighthouseFact]
    public async Task The_consent_confirm_and_unsubscribe_pages_score_at_least_95_in_performance_and_best_practices_and_100_in_accessibility()
    {
        var pages = await SeedAsync();
        var folder = ReportFolder();
        var failures = new List<string>();
        foreach (var (name, path) in pages)
        {
            // Performance is timed on a shared 2-core machine: a run that lost the CPU to another process is repeated
            // (up to three runs, the last one's report kept), as Lighthouse's own docs advise for a noisy host. The other
            // categories do not depend on timing.
            for (var run = 1; ; run++)
            {
                var report = await RunLighthouseAsync(BaseUrl.TrimEnd('/') + path, Path.Combine(folder, name));
                using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
                var verdicts = new List<string>();
                var scores = Judge(json.RootElement, name, verdicts);
                output.WriteLine($"{name}, run {run}: {scores} (report: {report.Replace(".json", ".html")})");
                if (verdicts.Count == 0 || run == 3 || !PerformanceBelowTarget(json.RootElement)) { failures.AddRange(verdicts); break; }
            }
        }
        Assert.True(failures.Count == 0, $"Lighthouse (reports in {folder}):\n" + string.Join("\n", failures));
    }

    private static bool PerformanceBelowTarget(JsonElement report) =>
        report.GetProperty("categories").GetProperty("performance").GetProperty("score").GetDouble() < Targets[0].Minimum;

    private static readonly (string Category, double Minimum)[] Targets = [("performance", 0.95), ("accessibility", 1.0), ("best-practices", 0.95)];

    /// <summary>The scores, and for each category below its target the audits that cost points, by title.</summary>
    private static string Judge(JsonElement report, string page, List<string> failures)
    {
        var categories = report.GetProperty("categories");
        var audits = report.GetProperty("audits");
        var scores = new List<string>();
        foreach (var (category, minimum) in Targets)
        {
            var score = categories.GetProperty(category).GetProperty("score").GetDouble();
            scores.Add($"{category} {score * 100:0}");
            if (score >= minimum) continue;
            var lost = categories.GetProperty(category).GetProperty("auditRefs").EnumerateArray()
                .Where(r => r.GetProperty("weight").GetDouble() > 0)
                .Select(r => audits.GetProperty(r.GetProperty("id").GetString()!))
                .Where(a => a.GetProperty("score").ValueKind == JsonValueKind.Number && a.GetProperty("score").GetDouble() < 1)
                .Select(a => $"    {a.GetProperty("title").GetString()} ({a.GetProperty("score").GetDouble():0.##}"
                    + (a.TryGetProperty("displayValue", out var shown) ? $", {shown.GetString()}" : "") + ")");
            failures.Add($"{page}: {category} {score * 100:0} < {minimum * 100:0}:\n" + string.Join("\n", lost));
        }
        // The full Bootstrap, uncompressed (before issue 17), still scored 96-97 here on loopback: these audits say why the
        // page is light, not only that it is quick enough on this machine.
        foreach (var id in (string[])["uses-text-compression", "uses-long-cache-ttl"])
        {
            var audit = audits.GetProperty(id);
            if (audit.GetProperty("score") is { ValueKind: JsonValueKind.Number } s && s.GetDouble() < 1)
                failures.Add($"{page}: {audit.GetProperty("title").GetString()} ({(audit.TryGetProperty("displayValue", out var shown) ? shown.GetString() : "")})");
        }
        var bytes = audits.GetProperty("total-byte-weight").GetProperty("numericValue").GetDouble();
        if (bytes > 50 * 1024) failures.Add($"{page}: {bytes:0} bytes transferred, more than 50 KB");
        scores.Add($"{bytes / 1024:0.0} KB transferred");
        return string.Join(", ", scores);
    }

    /// <summary>Runs the CLI as a person would; returns the JSON report's path (the HTML one lies next to it).</summary>
    private async Task<string> RunLighthouseAsync(string url, string basePath)
    {
        var start = new ProcessStartInfo(LighthouseFactAttribute.LighthousePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["CHROME_PATH"] = BrowserFactAttribute.ChromiumPath },
        };
        foreach (var argument in (string[])[
            url,
            "--output=json", "--output=html", "--output-path=" + basePath,
            "--only-categories=performance,accessibility,best-practices",
            // The machine has no network beyond loopback: Chromium must not call home (as Browser.cs).
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --no-first-run --disable-sync",
            "--quiet",
        ]) start.ArgumentList.Add(argument);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Lighthouse did not finish {url} within 2 minutes: {await stderr}");
        }
        var json = basePath + ".report.json";
        if (process.ExitCode != 0 || !File.Exists(json))
            throw new InvalidOperationException($"Lighthouse failed on {url} (exit {process.ExitCode}):\n{await stdout}\n{await stderr}");
        return json;
    }

    private static string ReportFolder()
    {
        var folder = Environment.GetEnvironmentVariable("LIGHTHOUSE_REPORTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "TestResults", "lighthouse");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A newsletter as a portal would set it up, a reader's DOI link from the sent mail, and their unsubscribe link.</summary>
    private async Task<(string Name, string Path)[]> SeedAsync()
    {
        await App.NewsletterAsync();
        var (confirm, unsubscribe) = await App.SignedUpReaderAsync("lighthouse@example.test");
        return [("consent", "/n/" + ReaderSeed.Slug), ("confirm", confirm), ("unsubscribe", unsubscribe)];
    }
}

/// <summary>A browser test that also needs Lighthouse from npm; skipped with the reason where it is missing, like Chromium.</summary>
public sealed class LighthouseFactAttribute : BrowserFactAttribute
{
    public static string LighthousePath => Path.Combine(AppFactory.RepositoryRoot(), "tests", "NewsletterMigrator.BrowserTests", "node_modules", ".bin", "lighthouse");

    public LighthouseFactAttribute()
    {
        if (Skip is null && Environment.GetEnvironmentVariable("REQUIRE_BROWSER") != "1" && !File.Exists(LighthousePath))
            Skip = "Lighthouse is not installed (npm ci --prefix tests/NewsletterMigrator.BrowserTests); set REQUIRE_BROWSER=1 to make this a failure.";
    }
}
