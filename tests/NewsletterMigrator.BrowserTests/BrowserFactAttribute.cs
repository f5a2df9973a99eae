namespace NewsletterMigrator.BrowserTests;

/// <summary>
/// A browser test runs where Debian's Chromium is installed. Elsewhere it is skipped with the reason
/// shown, unless REQUIRE_BROWSER=1 (as in CI): then it runs and fails, so CI can never skip it silently.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(ChromiumPath) && Environment.GetEnvironmentVariable("REQUIRE_BROWSER") != "1")
            Skip = $"Chromium is not installed at {ChromiumPath} (apt-get install chromium); set REQUIRE_BROWSER=1 to make this a failure.";
    }
}
