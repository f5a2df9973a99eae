using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Consent;

/// <summary>
/// Consent's part of a delivery: a DOI mail the SMTP server accepted gets its DoiSent entry in the ledger (C7: the time
/// accepted, the Message-ID, the template version; C43: the hash of the text as it was sent), in the transaction that
/// records the row as sent.
/// </summary>
public sealed class DoiSentProof(AppDbContext db) : IDeliveryOutcomeHandler
{
    public Task DeliveredAsync(OutboundMessage row, Subscriber? subscriber, string? doiTextSha256, DateTime at, CancellationToken ct)
    {
        if (row.Kind == MessageKind.DoubleOptIn && subscriber is not null) ConsentLedger.DoiSent(db, subscriber, row.MessageId, doiTextSha256, at);
        return Task.CompletedTask;
    }
}
