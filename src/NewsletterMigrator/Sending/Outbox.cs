using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>Writes outbox rows in the caller's transaction and wakes the worker after the commit.</summary>
public sealed class Outbox(AppDbContext db, OutboxSignal signal, IOptions<AppOptions> app, TimeProvider clock)
{
    public const int UrgentPriority = 0;
    public const int BulkPriority = 10;

    public OutboundMessage Queue(MessageKind kind, int newsletterId, string toAddress, string language,
        Guid? subscriberId = null, int? campaignId = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var message = new OutboundMessage
        {
            Kind = kind,
            Priority = kind == MessageKind.Campaign ? BulkPriority : UrgentPriority,
            Status = MessageStatus.Queued,
            NewsletterId = newsletterId,
            CampaignId = campaignId,
            SubscriberId = subscriberId,
            ToAddress = toAddress,
            Language = language,
            MessageId = NewMessageId(app.Value),
            CreatedAtUtc = now,
            NextAttemptAtUtc = now,
        };
        db.OutboundMessages.Add(message);
        return message;
    }

    /// <summary>Call after the transaction that queued mail has committed.</summary>
    public void Wake() => signal.Notify();

    public static string NewMessageId(AppOptions app) => $"{Guid.NewGuid():N}@{app.BaseUri.Host}";
}

/// <summary>Lets a request that queued mail wake the delivery worker instead of waiting for its next poll.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Notify()
    {
        try { _semaphore.Release(); }
        catch (SemaphoreFullException) { /* already signalled */ }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _semaphore.WaitAsync(timeout, ct);
}
