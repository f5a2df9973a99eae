namespace NewsletterMigrator.Api;

/// <summary>
/// What an API key may do. Each endpoint names exactly one scope (its authorization policy of the same name); the
/// OpenAPI document and the admin reference page show it per operation.
/// </summary>
public static class ApiScopes
{
    /// <summary>Create campaign drafts, schedule, send now and cancel them.</summary>
    public const string CampaignsWrite = "campaigns:write";
    /// <summary>Read a campaign and its sending progress.</summary>
    public const string CampaignsRead = "campaigns:read";
    /// <summary>Start sign-ups (double opt-in), record withdrawals and suppressions.</summary>
    public const string SubscribersWrite = "subscribers:write";
    /// <summary>Read a newsletter's statistics: subscriber counts, the migration funnel, per-campaign counts.</summary>
    public const string StatsRead = "stats:read";
    /// <summary>Add, change and remove a newsletter's feeds (breaking news and digests from the CMS).</summary>
    public const string FeedsWrite = "feeds:write";
    /// <summary>Read a newsletter's feeds and their polling health.</summary>
    public const string FeedsRead = "feeds:read";

    /// <summary>Every scope with the English sentence the reference page, the OpenAPI document and the CLI show.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [CampaignsWrite] = "Create campaign drafts, schedule them, send them now and cancel them.",
        [CampaignsRead] = "Read a campaign and its sending progress.",
        [SubscribersWrite] = "Start sign-ups with double opt-in, record withdrawals and suppressions.",
        [StatsRead] = "Read newsletter statistics: subscribers by status, the migration funnel, per-campaign counts.",
        [FeedsWrite] = "Add, change and remove the newsletter's feeds (breaking news and digests from the CMS).",
        [FeedsRead] = "Read the newsletter's feeds and their polling health.",
    };

    public static IReadOnlyCollection<string> All => (IReadOnlyCollection<string>)Descriptions.Keys;

    /// <summary>The claim that carries one scope of the calling key.</summary>
    public const string ClaimType = "scope";

    /// <summary>Splits "a,b c" into known scopes; the unknown ones come back separately so the caller can refuse them.</summary>
    public static (List<string> Known, List<string> Unknown) Parse(string? value)
    {
        var names = (value ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.ToLowerInvariant()).Distinct().ToList();
        return (names.Where(Descriptions.ContainsKey).ToList(), names.Where(n => !Descriptions.ContainsKey(n)).ToList());
    }
}
