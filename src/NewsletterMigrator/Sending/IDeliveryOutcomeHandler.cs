using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// What happened to one of our mails while we sent it, reported by Sending to the features that give it meaning
/// (ARCHITECTURE "arrows point down"): Sending owns this interface and writes none of their records itself. Every
/// registered handler hears every outcome; each feature registers its own through its AddX and implements only what it
/// cares about (the rest default to nothing). Scoped: one instance per flush of results, sharing that scope's database
/// context, and called inside the transaction that records the rows' results, so a crash leaves both or neither.
/// Complaints never pass here: they arrive later, by mail, and Deliverability reads them from the bounce mailbox.
/// </summary>
public interface IDeliveryOutcomeHandler
{
    /// <summary>The receiving server accepted the mail.</summary>
    /// <param name="subscriber">
    /// The reader as leased with the batch, when the row has one and the reader's status did not change before the send.
    /// </param>
    /// <param name="doiTextSha256">For a DOI mail: the hash of its text as it was sent (C43).</param>
    Task DeliveredAsync(OutboundMessage row, Subscriber? subscriber, string? doiTextSha256, DateTime at, CancellationToken ct) => Task.CompletedTask;

    /// <summary>The recipient itself was refused at RCPT TO (C37: 5.1.1, 5.1.2, 5.1.3, 5.1.6): a hard bounce.</summary>
    Task RecipientRefusedAsync(OutboundMessage row, string? statusCode, string redactedReply, DateTime at, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Our side was refused (MAIL FROM, 5.1.7/5.1.8, 5.7.x): never the reader's fault. A campaign mail goes back to the
    /// queue, and the worker has already asked <see cref="ICampaignPauser"/> to pause its campaign; other mail fails.
    /// </summary>
    Task SenderRefusedAsync(OutboundMessage row, string? statusCode, DateTime at, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// The mail failed for good for another reason: refused permanently at RCPT TO or at the end of DATA for something
    /// other than the address (5.2.2 mailbox full, 5.6.x content), or deferred (4.x) until we gave up. Counts like a soft
    /// bounce reported by mail; never suppresses by itself (C37).
    /// </summary>
    Task DeliveryFailedAsync(OutboundMessage row, string? statusCode, DateTime at, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Once per flush, after every row's outcome and before the commit, in the same transaction: for what a handler
    /// writes for the flush as a whole (one statement for fifty rows, not fifty: the send rate depends on short flushes).
    /// </summary>
    Task BeforeCommitAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Once per flush, after the transaction that recorded the outcomes above has committed: what weighs them together
    /// (a campaign's rates, which may pause it) runs here, outside the write, so it can neither fail the flush (sent rows
    /// left leased would be sent again) nor hold the write lock. A failure here is logged and the other handlers still run.
    /// </summary>
    Task RecordedAsync(CancellationToken ct) => Task.CompletedTask;
}
