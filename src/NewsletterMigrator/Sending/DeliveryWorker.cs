using System.Threading.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Delivers the outbox: lease a batch, send over a small pool of reused connections under a rate
/// limit, record each result at once. A crash leaves leases that expire and return to the queue.
/// </summary>
public sealed class DeliveryWorker(
    IServiceScopeFactory scopes,
    OutboxSignal signal,
    MailTransportFactory transports,
    MessageFactory messages,
    IOptions<SmtpOptions> smtp,
    IOptions<SendingOptions> sending,
    KeyRing keys,
    TimeProvider clock,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pool = new Stack<IMailTransport>();
        using var limiter = CreateRateLimiter(smtp.Value.MessagesPerSecond, smtp.Value.MaxConnections);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var handled = 0;
                try
                {
                    handled = await DeliverBatchAsync(pool, limiter, stoppingToken);
                    if (handled == 0) await CompleteFinishedCampaignsAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Delivery batch failed; leases expire and the rows return to the queue");
                }
                if (handled == 0) await signal.WaitAsync(sending.Value.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
        finally
        {
            while (pool.TryPop(out var transport)) await transport.DisposeAsync();
        }
    }

    internal async Task<int> DeliverBatchAsync(Stack<IMailTransport> pool, RateLimiter limiter, CancellationToken ct)
    {
        List<OutboundMessage> batch;
        Dictionary<int, Newsletter> newsletters;
        Dictionary<int, Campaign> campaigns;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            batch = await LeaseAsync(db, ct);
            if (batch.Count == 0) return 0;
            var newsletterIds = batch.Select(m => m.NewsletterId).Distinct().ToList();
            newsletters = await db.Newsletters.AsNoTracking().Where(n => newsletterIds.Contains(n.Id)).ToDictionaryAsync(n => n.Id, ct);
            var campaignIds = batch.Where(m => m.CampaignId != null).Select(m => m.CampaignId!.Value).Distinct().ToList();
            campaigns = await db.Campaigns.AsNoTracking().Where(c => campaignIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        }

        var slots = Math.Min(smtp.Value.MaxConnections, batch.Count);
        var transportsInUse = new Stack<IMailTransport>();
        for (var i = 0; i < slots; i++) transportsInUse.Push(pool.TryPop(out var t) ? t : transports.Create());
        var available = new System.Collections.Concurrent.ConcurrentBag<IMailTransport>(transportsInUse);
        try
        {
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = slots, CancellationToken = ct }, async (row, token) =>
            {
                available.TryTake(out var transport);
                try
                {
                    using var lease = await limiter.AcquireAsync(1, token);
                    await DeliverOneAsync(row, transport!, newsletters[row.NewsletterId],
                        row.CampaignId is { } id ? campaigns.GetValueOrDefault(id) : null, token);
                }
                finally
                {
                    available.Add(transport!);
                }
            });
        }
        finally
        {
            foreach (var transport in available) pool.Push(transport);
        }
        return batch.Count;
    }

    private async Task<List<OutboundMessage>> LeaseAsync(AppDbContext db, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var due = db.OutboundMessages.Where(m =>
            ((m.Status == MessageStatus.Queued && m.NextAttemptAtUtc <= now) || (m.Status == MessageStatus.Leased && m.LeaseExpiresAtUtc < now))
            && (m.Kind != MessageKind.Campaign || db.Campaigns.Any(c => c.Id == m.CampaignId && c.Status == CampaignStatus.Sending)));
        var ids = await due.OrderBy(m => m.Priority).ThenBy(m => m.Id).Select(m => m.Id).Take(sending.Value.BatchSize).ToListAsync(ct);
        if (ids.Count == 0) return [];
        var expires = now + sending.Value.LeaseDuration;
        await due.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, MessageStatus.Leased)
            .SetProperty(m => m.LeaseOwner, _owner)
            .SetProperty(m => m.LeaseExpiresAtUtc, expires), ct);
        return await db.OutboundMessages.AsNoTracking()
            .Where(m => ids.Contains(m.Id) && m.LeaseOwner == _owner && m.Status == MessageStatus.Leased)
            .OrderBy(m => m.Priority).ThenBy(m => m.Id).ToListAsync(ct);
    }

    private async Task DeliverOneAsync(OutboundMessage row, IMailTransport transport, Newsletter newsletter, Campaign? campaign, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var subscriber = row.SubscriberId is { } sid ? await db.Subscribers.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sid, ct) : null;

        // Re-checked right before sending: an unsubscribe takes effect at once (C13), and no newsletter without DOI (C1).
        var message = BuildIfStillWanted(row, newsletter, campaign, subscriber);
        if (message is null)
        {
            await Mine(db, row).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MessageStatus.Cancelled).SetProperty(m => m.LeaseOwner, (string?)null), ct);
            return;
        }

        var result = await transport.SendAsync(message, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var reply = Redact.Text(result.Reply);
        switch (result.Outcome)
        {
            case DeliveryOutcome.Sent:
                await Mine(db, row).ExecuteUpdateAsync(u => u
                    .SetProperty(m => m.Status, MessageStatus.Sent).SetProperty(m => m.SentAtUtc, now)
                    .SetProperty(m => m.Attempts, m => m.Attempts + 1).SetProperty(m => m.LastReply, reply)
                    .SetProperty(m => m.LeaseOwner, (string?)null), ct);
                if (row.Kind == MessageKind.DoubleOptIn && subscriber is not null)
                {
                    db.ConsentEvents.Add(new ConsentEvent
                    {
                        SubscriberId = subscriber.Id, NewsletterId = row.NewsletterId, Kind = ConsentEventKind.DoiSent,
                        OccurredAtUtc = now, MessageId = row.MessageId, TemplateVersion = Consent.SignUpService.DoiTemplateVersion,
                    });
                    await db.SaveChangesAsync(ct);
                }
                else if (row.Kind == MessageKind.Campaign && subscriber is { FirstNewsletterSentAtUtc: null })
                {
                    await db.Subscribers.Where(s => s.Id == subscriber.Id && s.FirstNewsletterSentAtUtc == null)
                        .ExecuteUpdateAsync(u => u.SetProperty(s => s.FirstNewsletterSentAtUtc, now), ct);
                }
                break;
            case DeliveryOutcome.TemporaryFailure when now - row.CreatedAtUtc < sending.Value.GiveUpAfter:
                var delay = RetryDelay(row.Attempts + 1);
                await Mine(db, row).ExecuteUpdateAsync(u => u
                    .SetProperty(m => m.Status, MessageStatus.Queued).SetProperty(m => m.NextAttemptAtUtc, now + delay)
                    .SetProperty(m => m.Attempts, m => m.Attempts + 1).SetProperty(m => m.LastReply, reply)
                    .SetProperty(m => m.LeaseOwner, (string?)null), ct);
                logger.LogWarning("Message {MessageRowId} deferred for {Delay}: {Reply}", row.Id, delay, reply);
                break;
            default:
                await Mine(db, row).ExecuteUpdateAsync(u => u
                    .SetProperty(m => m.Status, MessageStatus.Failed).SetProperty(m => m.Attempts, m => m.Attempts + 1)
                    .SetProperty(m => m.LastReply, reply).SetProperty(m => m.LeaseOwner, (string?)null), ct);
                logger.LogWarning("Message {MessageRowId} failed: {Reply}", row.Id, reply);
                if (result.RecipientRejected && subscriber is not null) await MarkBouncedAsync(db, subscriber, reply, now, ct);
                break;
        }
    }

    private MimeMessage? BuildIfStillWanted(OutboundMessage row, Newsletter newsletter, Campaign? campaign, Subscriber? subscriber) => row.Kind switch
    {
        MessageKind.DoubleOptIn when subscriber is { Status: SubscriberStatus.Pending } => messages.DoubleOptIn(row, newsletter, subscriber),
        MessageKind.Campaign when subscriber is { Status: SubscriberStatus.Confirmed } && campaign is not null => messages.Newsletter(row, newsletter, campaign, subscriber),
        MessageKind.AccessLink when subscriber is not null && EmailAddress.Key(row.ToAddress) == subscriber.EmailKey => messages.AccessLink(row, newsletter, subscriber),
        MessageKind.AddressChange when subscriber?.PendingEmail is { } pending && EmailAddress.Key(pending) == EmailAddress.Key(row.ToAddress)
            => messages.AddressChange(row, newsletter, subscriber),
        MessageKind.Test when campaign is not null => messages.Newsletter(row, newsletter, campaign, subscriber: null),
        _ => null,
    };

    // Results are written only by the lease holder: a row whose lease expired and moved on is not ours to change.
    private IQueryable<OutboundMessage> Mine(AppDbContext db, OutboundMessage row) =>
        db.OutboundMessages.Where(m => m.Id == row.Id && m.LeaseOwner == _owner && m.Status == MessageStatus.Leased);

    private TimeSpan RetryDelay(int attempt)
    {
        var first = sending.Value.FirstRetryDelay;
        var factor = Math.Pow(2, Math.Min(attempt - 1, 10));
        return TimeSpan.FromTicks(Math.Min((long)(first.Ticks * factor), TimeSpan.FromHours(1).Ticks));
    }

    private async Task MarkBouncedAsync(AppDbContext db, Subscriber subscriber, string reply, DateTime now, CancellationToken ct)
    {
        await db.Subscribers.Where(s => s.Id == subscriber.Id).ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriberStatus.Bounced), ct);
        var hash = SuppressionHash.Email(keys, subscriber.EmailKey);
        if (!await db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Email && s.Hash == hash, ct))
        {
            db.Suppressions.Add(new Suppression { Kind = SuppressionKind.Email, Hash = hash, Reason = "hard bounce: " + reply, CreatedAtUtc = now });
            await db.SaveChangesAsync(ct);
        }
    }

    private async Task CompleteFinishedCampaignsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Campaigns
            .Where(c => c.Status == CampaignStatus.Sending && !db.OutboundMessages.Any(m =>
                m.CampaignId == c.Id && m.Kind == MessageKind.Campaign && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Leased)))
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Sent).SetProperty(c => c.CompletedAtUtc, now), ct);
    }

    private static TokenBucketRateLimiter CreateRateLimiter(double perSecond, int connections)
    {
        // Refill ten times a second where the rate allows, so sending is smooth rather than bursty.
        var (period, tokens) = perSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), (int)Math.Round(perSecond / 10))
            : (TimeSpan.FromSeconds(1 / perSecond), 1);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(tokens, connections),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
