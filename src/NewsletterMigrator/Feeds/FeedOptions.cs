using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Feeds;

/// <summary>How feeds are fetched (section "Feeds"); the poller and the fetcher read the same values.</summary>
public sealed class FeedOptions
{
    public const string Section = "Feeds";

    /// <summary>How often a feed is asked; a conditional GET that answers 304 costs the CMS almost nothing.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>The whole request, headers and body: a CMS that trickles its answer must not hold a poller slot.</summary>
    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(20);
    /// <summary>A news feed is tens of kilobytes; 5 MiB leaves room for full-text feeds and stops a runaway export.</summary>
    public long MaxFeedBytes { get; set; } = 5 * 1024 * 1024;
    /// <summary>The longest wait between attempts at a failing feed.</summary>
    public TimeSpan MaxBackOff { get; set; } = TimeSpan.FromHours(6);
}

/// <summary>Each failure names the key, so a wrong value is fixed without reading code.</summary>
public sealed class FeedOptionsValidator : IValidateOptions<FeedOptions>
{
    /// <summary>Low enough for tests; in production a minute or more is polite to the CMS (README says so).</summary>
    public static readonly TimeSpan MinimumPollInterval = TimeSpan.FromSeconds(1);

    public ValidateOptionsResult Validate(string? name, FeedOptions o)
    {
        var errors = new List<string>();
        if (o.PollInterval < MinimumPollInterval)
            errors.Add($"Feeds:PollInterval must be at least 00:00:01 (was {o.PollInterval}).");
        if (o.FetchTimeout < TimeSpan.FromSeconds(1) || o.FetchTimeout > TimeSpan.FromMinutes(5))
            errors.Add($"Feeds:FetchTimeout must be between 00:00:01 and 00:05:00 (was {o.FetchTimeout}).");
        if (o.MaxFeedBytes is < 1024 or > 256L * 1024 * 1024)
            errors.Add($"Feeds:MaxFeedBytes must be between 1024 and 268435456 bytes (was {o.MaxFeedBytes}).");
        if (o.MaxBackOff < o.PollInterval)
            errors.Add($"Feeds:MaxBackOff must not be shorter than Feeds:PollInterval (was {o.MaxBackOff}, interval {o.PollInterval}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
