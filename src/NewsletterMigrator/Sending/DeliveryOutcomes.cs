using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// What the receiving server said about one of our mails while we sent it, reported by Sending to whoever gives it
/// meaning (Deliverability: the delivery records, the bounced reader, the suppression list). Sending owns this interface
/// and never writes those records itself. Called inside the transaction that records the row's result, with the same
/// scope's database context, so a crash leaves both or neither.
/// </summary>
public interface IDeliveryOutcomes
{
    /// <summary>The recipient itself was refused at RCPT TO (C37: 5.1.1, 5.1.2, 5.1.3, 5.1.6).</summary>
    Task RecipientRefusedAsync(OutboundMessage row, string? statusCode, string redactedReply, DateTime at, CancellationToken ct);

    /// <summary>Our side was refused (MAIL FROM, 5.1.7/5.1.8, 5.7.x): never the reader's fault.</summary>
    Task SenderRefusedAsync(OutboundMessage row, string? statusCode, DateTime at, CancellationToken ct);

    /// <summary>
    /// The mail failed for good for another reason: refused permanently at RCPT TO or at the end of DATA for something
    /// other than the address (5.2.2 mailbox full, 5.6.x content), or deferred (4.x) until we gave up. Counts like a soft
    /// bounce reported by mail; never suppresses by itself (C37).
    /// </summary>
    Task DeliveryFailedAsync(OutboundMessage row, string? statusCode, DateTime at, CancellationToken ct);

    /// <summary>
    /// Once per flush, after the transaction that recorded the outcomes above has committed: what weighs them together
    /// (a campaign's rates, which may pause it) runs here, once per campaign and outside the write, so it can neither
    /// fail the flush (sent rows left leased would be sent again) nor hold the write lock.
    /// </summary>
    Task RecordedAsync(CancellationToken ct);
}
