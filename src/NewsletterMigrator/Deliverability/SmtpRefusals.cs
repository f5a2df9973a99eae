using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// What a refusal while sending means (C37), the same as the report of it by mail would: a refused recipient is a hard
/// bounce (reader bounced, address suppressed), a refused sender is recorded and never touches the reader (the delivery
/// worker pauses the campaign), any other final failure counts as a soft bounce. All are delivery events, so the reports
/// count both paths. Scoped: one instance per flush, which remembers the campaigns with a refused recipient for the rate
/// check after the commit.
/// </summary>
public sealed class SmtpRefusals(DeliveryEventLog events, BounceMarks bounces, CampaignHealth health) : IDeliveryOutcomeHandler
{
    private readonly HashSet<int> _bounced = [];

    public async Task RecipientRefusedAsync(OutboundMessage row, string? statusCode, string redactedReply, DateTime at, CancellationToken ct)
    {
        // A row sent again after a crash and refused again is still one mail.
        if (await events.TryAddAsync(DeliveryEventKind.HardBounce, row, statusCode, DeliveryEventLog.Smtp, at, ct) is null) return;
        await bounces.MarkAsync(row, redactedReply, at, ct);
        if (row is { Kind: MessageKind.Campaign, CampaignId: { } campaignId }) _bounced.Add(campaignId);
    }

    public Task SenderRefusedAsync(OutboundMessage row, string? statusCode, DateTime at, CancellationToken ct) =>
        events.TryAddAsync(DeliveryEventKind.SenderRefusal, row, statusCode, DeliveryEventLog.Smtp, at, ct);

    /// <summary>Recorded as a soft bounce, so the reports and the rule of three separate days see it; nothing is suppressed here (C37).</summary>
    public Task DeliveryFailedAsync(OutboundMessage row, string? statusCode, DateTime at, CancellationToken ct) =>
        events.TryAddAsync(DeliveryEventKind.SoftBounce, row, statusCode, DeliveryEventLog.Smtp, at, ct);

    public async Task RecordedAsync(CancellationToken ct)
    {
        foreach (var campaignId in _bounced) await health.CheckAsync(campaignId, ct);
        _bounced.Clear();
    }
}
