using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Writes outbox rows in the caller's transaction and wakes the worker after the commit; the one owner of cancelling
/// pending mail (ARCHITECTURE "one owner per record kind").
/// </summary>
public sealed class Outbox(AppDbContext db, OutboxSignal signal, IOptions<AppOptions> app, TimeProvider clock)
{
    public const int UrgentPriority = 0;
    /// <summary>
    /// The welcome after a confirmed DOI (issue 21): after DOI, test and access mails (a link someone waits for right now),
    /// before any campaign row, breaking news included, so a new reader hears the welcome before the first issue.
    /// </summary>
    public const int WelcomePriority = 2;
    /// <summary>Breaking news (issue 19): after DOI and test mails, before the rows of a digest or issue already sending.</summary>
    public const int BreakingPriority = 5;
    public const int BulkPriority = 10;

    public OutboundMessage Queue(MessageKind kind, int newsletterId, string toAddress, string language,
        Guid? subscriberId = null, int? campaignId = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var message = new OutboundMessage
        {
            Kind = kind,
            Priority = kind switch { MessageKind.Campaign => BulkPriority, MessageKind.Welcome => WelcomePriority, _ => UrgentPriority },
            Status = MessageStatus.Queued,
            NewsletterId = newsletterId,
            CampaignId = campaignId,
            SubscriberId = subscriberId,
            ToAddress = toAddress,
            Language = language,
            MessageId = MessageIds.New(app.Value.BaseUri.Host),
            CreatedAtUtc = now,
            NextAttemptAtUtc = now,
        };
        db.OutboundMessages.Add(message);
        return message;
    }

    /// <summary>Call after the transaction that queued mail has committed.</summary>
    public void Wake() => signal.Notify();

    /// <summary>
    /// Cancels the reader's mail that has not gone out (queued, or leased by a worker right now), of every kind, in the
    /// caller's transaction: a withdrawal takes effect at once (C13), an erased or deleted reader gets nothing more. A
    /// leased row is safe to cancel under the worker: it writes a row's result only while the row is still Leased, and
    /// re-reads the reader's status right before it sends.
    /// </summary>
    /// <returns>How many rows were cancelled.</returns>
    public static Task<int> CancelPendingAsync(AppDbContext db, Guid subscriberId, CancellationToken ct) =>
        CancelAsync(db.OutboundMessages.Where(m => m.SubscriberId == subscriberId), ct);

    /// <inheritdoc cref="CancelPendingAsync(AppDbContext, Guid, CancellationToken)"/>
    public static Task<int> CancelPendingAsync(AppDbContext db, IReadOnlyCollection<Guid> subscriberIds, CancellationToken ct) =>
        CancelAsync(db.OutboundMessages.Where(m => m.SubscriberId != null && subscriberIds.Contains(m.SubscriberId.Value)), ct);

    /// <summary>A cancelled campaign's mail that has not gone out; its test mails and what was sent stay as they are.</summary>
    public static Task<int> CancelPendingOfCampaignAsync(AppDbContext db, int campaignId, CancellationToken ct) =>
        CancelAsync(db.OutboundMessages.Where(m => m.CampaignId == campaignId && m.Kind == MessageKind.Campaign), ct);

    private static Task<int> CancelAsync(IQueryable<OutboundMessage> rows, CancellationToken ct) =>
        rows.Where(m => m.Status == MessageStatus.Queued || m.Status == MessageStatus.Leased)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MessageStatus.Cancelled), ct);
}

/// <summary>Lets a request that queued mail wake the delivery worker instead of waiting for its next poll.</summary>
public sealed class OutboxSignal : WakeSignal;

/// <summary>
/// The delivery worker found nothing to send: whoever waits for mail to drain (the campaign scheduler, which turns a
/// campaign without pending rows to Sent) looks now rather than at its next poll. Sending only says so; it knows nothing
/// of campaigns.
/// </summary>
public sealed class OutboxIdleSignal : WakeSignal;
