namespace NewsletterMigrator.Campaigns;

/// <summary>
/// Pauses a sending campaign whose complaint or hard-bounce rate rises above the configured limits (issue 16.3).
/// Called after a complaint or hard bounce is recorded against the campaign.
/// </summary>
public sealed class CampaignHealth
{
    // Placeholder of the base commit: the reports' engineer fills it in.
    public Task CheckAsync(int campaignId, CancellationToken ct = default) => Task.CompletedTask;
}
