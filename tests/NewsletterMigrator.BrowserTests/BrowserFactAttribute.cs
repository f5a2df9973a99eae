using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// A browser test runs where Debian's Chromium is installed. Elsewhere it is skipped with the reason
/// shown, unless REQUIRE_BROWSER=1 (as in CI): then it runs and fails, so CI can never skip it silently.
/// </summary>
public class BrowserFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("REQUIRE_BROWSER") == "1") return;
        if (!File.Exists(ChromiumPath))
            Skip = $"Chromium is not installed at {ChromiumPath} (apt-get install chromium); set REQUIRE_BROWSER=1 to make this a failure.";
    }
}

/// <summary>A browser test that also needs axe-core from npm; skipped with the reason where it is missing, like Chromium.</summary>
public sealed class AxeFactAttribute : BrowserFactAttribute
{
    public static string AxePath => Path.Combine(AppFactory.RepositoryRoot(), "tests", "NewsletterMigrator.BrowserTests", "node_modules", "axe-core", "axe.min.js");

    public AxeFactAttribute()
    {
        if (Skip is null && Environment.GetEnvironmentVariable("REQUIRE_BROWSER") != "1" && !File.Exists(AxePath))
            Skip = "axe-core is not installed (npm ci --prefix tests/NewsletterMigrator.BrowserTests); set REQUIRE_BROWSER=1 to make this a failure.";
    }
}
