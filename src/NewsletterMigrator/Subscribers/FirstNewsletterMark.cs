using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

/// <summary>
/// Subscribers' part of a delivery: the time a reader's first newsletter was accepted (part of the reader's data export,
/// Art. 15). Collected per flush and written in one statement before its commit, not one per mail.
/// </summary>
public sealed class FirstNewsletterMark(AppDbContext db) : IDeliveryOutcomeHandler
{
    private readonly List<Guid> _readers = [];
    private DateTime _at;

    public Task DeliveredAsync(OutboundMessage row, Subscriber? subscriber, string? doiTextSha256, DateTime at, CancellationToken ct)
    {
        if (row.Kind == MessageKind.Campaign && subscriber is { FirstNewsletterSentAtUtc: null })
        {
            _readers.Add(subscriber.Id);
            if (at > _at) _at = at;
        }
        return Task.CompletedTask;
    }

    public async Task BeforeCommitAsync(CancellationToken ct)
    {
        if (_readers.Count == 0) return;
        var (readers, at) = (_readers.ToList(), _at);
        _readers.Clear();
        await db.Subscribers.Where(s => readers.Contains(s.Id) && s.FirstNewsletterSentAtUtc == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.FirstNewsletterSentAtUtc, at), ct);
    }
}
