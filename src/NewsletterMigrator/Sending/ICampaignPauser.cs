namespace NewsletterMigrator.Sending;

/// <summary>
/// The delivery worker cannot go on with these campaigns (our sender refused, C37; the newsletter's legal identity
/// emptied while sending, C38; the SMTP server failing again and again): whoever owns campaigns pauses them, with the
/// reason the editor reads. Sending owns this interface, so it never calls Campaigns (ARCHITECTURE "arrows point down").
/// Called at once, in its own scope, not with the batched results: the other slots stop sending the campaign now.
/// </summary>
public interface ICampaignPauser
{
    /// <param name="reason">What the editor reads on the report and the dashboard; names no reader (C20).</param>
    /// <param name="actor">The audit trail's actor and the campaign's PausedBy.</param>
    Task PauseAsync(IReadOnlyCollection<int> campaignIds, string reason, string actor, CancellationToken ct);
}
