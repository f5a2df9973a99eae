using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Delivers the outbox: lease a batch, send over a small pool of reused connections under a rate
/// limit and an hourly cap, record results in short batched transactions. A crash leaves leases: the
/// same instance takes its own back when it starts again, other instances wait until they expire; the
/// row's stable Message-ID makes such a resend recognisable. What a result means to the features (the ledger, bounces,
/// a campaign's pause) goes through interfaces Sending owns: <see cref="IDeliveryOutcomeHandler"/>, <see cref="ICampaignPauser"/>.
/// </summary>
public sealed class DeliveryWorker(
    IServiceScopeFactory scopes,
    OutboxSignal signal,
    MailTransportFactory transports,
    MessageFactory messages,
    DkimSigning dkim,
    IOptions<SmtpOptions> smtp,
    IOptions<SendingOptions> sending,
    IReturnPaths returnPaths,
    OutboxIdleSignal idle,
    InstanceIdentity instance,
    IBulkSql bulk,
    TimeProvider clock,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly string _owner = instance.NewLeaseOwner();
    private int _consecutiveFailures;
    private string _lastFailure = "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pool = new Stack<IMailTransport>();
        using var limiter = CreateRateLimiter(smtp.Value.MessagesPerSecond, smtp.Value.MaxConnections);
        var loop = new LeaseQueueLoop("Delivery", signal, sending.Value.PollInterval, logger);
        var busy = false;
        try
        {
            await loop.RunAsync(ReleaseEarlierRunsAsync, async ct =>
            {
                var handled = await DeliverBatchAsync(pool, limiter, ct);
                // The outbox just ran dry: what waits for that (the campaign scheduler, which finishes campaigns) looks now,
                // not at its next poll.
                if (handled == 0 && busy) idle.Notify();
                busy = handled > 0;
                return handled;
            }, stoppingToken);
        }
        finally
        {
            while (pool.TryPop(out var transport)) await transport.DisposeAsync();
        }
    }

    /// <summary>Before the first batch: what a crashed run of this instance held goes out now, with its Message-ID, not after its lease expires.</summary>
    private Task ReleaseEarlierRunsAsync(CancellationToken ct) =>
        LeaseTakeback.RunAsync(instance, scopes, logger, "outbox row(s)",
            (db, prefix, token) => OutboxLease.ReleaseEarlierRunsAsync(db, prefix, _owner, token), ct);

    internal async Task<int> DeliverBatchAsync(Stack<IMailTransport> pool, RateLimiter limiter, CancellationToken ct)
    {
        Batch batch;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            batch = await LeaseAsync(db, ct);
            if (batch.Rows.Count == 0) return 0;
        }

        var results = new DeliveryResults(scopes, _owner, logger);
        var slots = Math.Min(smtp.Value.MaxConnections, batch.Rows.Count);
        // One connection and one database context per slot: neither is thread-safe, both are reused per row.
        var available = new ConcurrentBag<Slot>();
        for (var i = 0; i < slots; i++) available.Add(new Slot(pool.TryPop(out var t) ? t : transports.Create(), scopes.CreateAsyncScope()));
        try
        {
            await Parallel.ForEachAsync(batch.Rows, new ParallelOptions { MaxDegreeOfParallelism = slots, CancellationToken = ct }, async (row, token) =>
            {
                available.TryTake(out var slot);
                try
                {
                    await DeliverOneAsync(row, slot!, batch, limiter, results, token);
                    await results.FlushIfDueAsync();
                }
                finally
                {
                    available.Add(slot!);
                }
            });
        }
        finally
        {
            // Also on shutdown: what was sent is recorded, so a restart resends as little as possible.
            try { await results.FlushAsync(CancellationToken.None); }
            catch (Exception ex) { logger.LogError(ex, "Recording delivery results failed; the leased rows will be retried"); }
            foreach (var slot in available)
            {
                pool.Push(slot.Transport);
                await slot.Scope.DisposeAsync();
            }
        }
        return batch.Rows.Count;
    }

    private sealed record Slot(IMailTransport Transport, AsyncServiceScope Scope)
    {
        public AppDbContext Db { get; } = Scope.ServiceProvider.GetRequiredService<AppDbContext>();
    }

    private static readonly CompiledPerProvider<Func<AppDbContext, Guid, CancellationToken, Task<SubscriberStatus?>>> CurrentStatus =
        new(() => EF.CompileAsyncQuery((AppDbContext db, Guid id, CancellationToken ct) =>
            db.Subscribers.Where(s => s.Id == id).Select(s => (SubscriberStatus?)s.Status).SingleOrDefault()));

    private sealed record Batch(
        List<OutboundMessage> Rows, Dictionary<int, Newsletter> Newsletters, Dictionary<int, Campaign> Campaigns,
        Dictionary<Guid, Subscriber> Subscribers)
    {
        /// <summary>Campaigns paused while this batch runs: their remaining rows go back to the queue unsent.</summary>
        public ConcurrentDictionary<int, bool> Paused { get; } = new();
    }

    private async Task<Batch> LeaseAsync(AppDbContext db, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // The hourly cap is counted in the database by the lease itself, so it holds across restarts and instances.
        var ids = await bulk.LeaseOutboxAsync(db,
            new OutboxLeaseRequest(_owner, sending.Value.BatchSize, now, sending.Value.LeaseDuration, smtp.Value.MessagesPerHour), ct);
        if (ids.Count == 0) return new Batch([], [], [], []);
        var rows = await db.OutboundMessages.AsNoTracking()
            .Where(m => ids.Contains(m.Id) && m.LeaseOwner == _owner && m.Status == MessageStatus.Leased)
            .OrderBy(m => m.Priority).ThenBy(m => m.Id).ToListAsync(ct);
        var newsletterIds = rows.Select(m => m.NewsletterId).Distinct().ToList();
        var campaignIds = rows.Where(m => m.CampaignId != null).Select(m => m.CampaignId!.Value).Distinct().ToList();
        var subscriberIds = rows.Where(m => m.SubscriberId != null).Select(m => m.SubscriberId!.Value).Distinct().ToList();
        return new Batch(rows,
            await db.Newsletters.AsNoTracking().Where(n => newsletterIds.Contains(n.Id)).ToDictionaryAsync(n => n.Id, ct),
            await db.Campaigns.AsNoTracking().Where(c => campaignIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct),
            await db.Subscribers.AsNoTracking().Where(s => subscriberIds.Contains(s.Id)).ToDictionaryAsync(s => s.Id, ct));
    }

    private async Task DeliverOneAsync(OutboundMessage row, Slot slot, Batch batch, RateLimiter limiter, DeliveryResults results, CancellationToken ct)
    {
        var campaign = row.CampaignId is { } cid ? batch.Campaigns.GetValueOrDefault(cid) : null;
        var now = clock.GetUtcNow().UtcDateTime;
        if (row.Kind == MessageKind.Campaign && campaign is not null && batch.Paused.ContainsKey(campaign.Id))
        {
            results.Add(new RowResult(row, MessageStatus.Queued, null, now, now, CountsAsAttempt: false));
            return;
        }
        var newsletter = batch.Newsletters[row.NewsletterId];
        if (row.Kind is MessageKind.Campaign or MessageKind.DoubleOptIn or MessageKind.AddressChange or MessageKind.Welcome && !LegalReadiness.IsOpen(newsletter))
        {
            // C38 also while live: when the legal identity was emptied after the mail was queued, nothing goes out
            // without it. The campaign pauses with a reason the editor sees; a DOI mail waits, and is dropped once
            // its link has expired (a reader must never get a link that is dead on arrival); a welcome waits as long as
            // a deferred mail would (Sending:GiveUpAfter): days late it is no welcome.
            var held = row.SubscriberId is { } heldId ? batch.Subscribers.GetValueOrDefault(heldId) : null;
            var linkExpiresAt = row.Kind switch
            {
                MessageKind.AddressChange => held?.ChangeTokenExpiresAtUtc,
                MessageKind.Welcome => row.CreatedAtUtc + sending.Value.GiveUpAfter,
                _ => held?.ConfirmTokenExpiresAtUtc,
            };
            var dead = row.Kind != MessageKind.Campaign && (held is null || linkExpiresAt <= now);
            results.Add(dead
                ? new RowResult(row, MessageStatus.Cancelled, null, now, null, CountsAsAttempt: false)
                : new RowResult(row, MessageStatus.Queued, null, now, now + sending.Value.FirstRetryDelay, CountsAsAttempt: false));
            if (campaign is not null) await PauseAsync([campaign.Id], batch, "legal identity incomplete (Impressum, controller or privacy notice missing)", ct);
            return;
        }
        var subscriber = row.SubscriberId is { } sid ? batch.Subscribers.GetValueOrDefault(sid) : null;

        // Re-checked right before sending, not only at lease time: an unsubscribe takes effect at once (C13),
        // and no newsletter goes out without DOI (C1).
        if (subscriber is not null && await CurrentStatus.For(slot.Db)(slot.Db, subscriber.Id, ct) != subscriber.Status) subscriber = null;
        // The DOI wording is built once: for the mail, and for the hash of the text as sent (C43).
        var doi = row.Kind == MessageKind.DoubleOptIn && subscriber is { Status: SubscriberStatus.Pending }
            ? messages.DoiText(newsletter, row.Language, subscriber.ConfirmTokenExpiresAtUtc) : null;
        // The WhatsApp alert says what holds the queue when it goes, or nothing when the pause was lifted meanwhile.
        var pause = row.Kind == MessageKind.WhatsAppPaused
            ? await slot.Db.WhatsAppAccounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == WhatsAppAccount.SingleId, ct) : null;
        // The welcome lists the archive's latest issues as they are when it goes (issue 21). The archive feature implements
        // ILatestIssues; without it (or with its archive off) the welcome goes without the list.
        IReadOnlyList<ArchivedIssue> latest = row.Kind == MessageKind.Welcome && subscriber is { Status: SubscriberStatus.Confirmed }
            && newsletter is { WelcomeEnabled: true, WelcomeLatestIssues: > 0 } && slot.Scope.ServiceProvider.GetService<ILatestIssues>() is { } archive
            ? await archive.LatestAsync(newsletter, newsletter.WelcomeLatestIssues, ct) : [];
        var message = BuildIfStillWanted(row, newsletter, campaign, subscriber, doi, pause, latest);
        if (message is null)
        {
            results.Add(new RowResult(row, MessageStatus.Cancelled, null, now, null, CountsAsAttempt: false));
            return;
        }
        dkim.Sign(message);

        using var permit = await limiter.AcquireAsync(1, ct);
        // Every outbox mail gets its own return path, so a bounce that comes back by mail names its row (issue 16).
        var result = await slot.Transport.SendAsync(message, returnPaths.For(row) is { } returnPath ? new MailboxAddress("", returnPath) : null, ct);
        now = clock.GetUtcNow().UtcDateTime;
        var reply = Redact.Text(result.Reply);
        switch (result.Outcome)
        {
            case DeliveryOutcome.Sent:
                Interlocked.Exchange(ref _consecutiveFailures, 0);
                // The DOI text's hash as sent: settings or the link's expiry may have changed since it was queued (C43).
                results.Add(new RowResult(row, MessageStatus.Sent, reply, now, null, true, subscriber, DoiTextSha256: doi?.Sha256()));
                return;
            case DeliveryOutcome.PermanentFailure when result.SenderRejected && campaign is not null && row.Kind == MessageKind.Campaign:
                // C37: our side was refused; the recipient is not to blame. Keep the row, stop the campaign.
                results.Add(new RowResult(row, MessageStatus.Queued, reply, now, now, true, SenderRefused: true, StatusCode: result.StatusCode));
                logger.LogWarning("Campaign {CampaignId} paused: the server refused the sender: {Reply}", campaign.Id, reply);
                await PauseAsync([campaign.Id], batch, $"sender refused: {reply}", ct);
                return;
            case DeliveryOutcome.TemporaryFailure when now - row.CreatedAtUtc < sending.Value.GiveUpAfter:
                var delay = RetryDelay(row.Attempts + 1);
                results.Add(new RowResult(row, MessageStatus.Queued, reply, now, now + delay, true));
                logger.LogWarning("Message {MessageRowId} deferred for {Delay}: {Reply}", row.Id, delay, reply);
                break;
            default:
                // A failed row is never due again, so its due time records when it failed: a campaign row would
                // otherwise keep the campaign's start, and the dashboard's "failed in the last hour" would miss it.
                results.Add(new RowResult(row, MessageStatus.Failed, reply, now, now, true, subscriber, Bounced: result.RecipientRejected,
                    SenderRefused: result.SenderRejected, StatusCode: result.StatusCode));
                logger.LogWarning("Message {MessageRowId} failed: {Reply}", row.Id, reply);
                // A refused recipient says nothing about the server's health.
                if (result.RecipientRejected) return;
                break;
        }
        _lastFailure = reply;
        var limit = sending.Value.PauseAfterConsecutiveFailures;
        if (limit > 0 && Interlocked.Increment(ref _consecutiveFailures) >= limit)
        {
            Interlocked.Exchange(ref _consecutiveFailures, 0);
            logger.LogError("{Count} deliveries failed in a row; pausing every sending campaign. Last reply: {Reply}", limit, _lastFailure);
            await PauseAsync(null, batch, $"{limit} consecutive failures, last: {_lastFailure}", ct);
        }
    }

    /// <summary>
    /// Pauses the given campaigns (or every sending one) with a reason the editor sees. A batch pauses a
    /// campaign at most once: a refusal that was already in flight must not pause it again after the
    /// editor has resumed it.
    /// </summary>
    private async Task PauseAsync(IReadOnlyCollection<int>? campaignIds, Batch batch, string reason, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var candidates = campaignIds?.ToList() ?? await db.Campaigns.Where(c => c.Status == CampaignStatus.Sending).Select(c => c.Id).ToListAsync(ct);
        if (campaignIds is null) candidates.AddRange(batch.Campaigns.Keys);
        var mine = candidates.Distinct().Where(id => batch.Paused.TryAdd(id, true)).ToList();
        if (mine.Count == 0) return;
        await scope.ServiceProvider.GetRequiredService<ICampaignPauser>().PauseAsync(mine, reason, PauseActor, ct);
    }

    /// <summary>The audit trail's actor and <see cref="Campaign.PausedBy"/> for the worker's pauses.</summary>
    public const string PauseActor = "delivery";

    private MimeMessage? BuildIfStillWanted(OutboundMessage row, Newsletter newsletter, Campaign? campaign, Subscriber? subscriber, DoiMailText? doi,
        WhatsAppAccount? pause, IReadOnlyList<ArchivedIssue> latest) => row.Kind switch
    {
        // Only while the reader is subscribed (C1, C12) and the newsletter still has its welcome switched on.
        MessageKind.Welcome when subscriber is { Status: SubscriberStatus.Confirmed } && newsletter.WelcomeEnabled => messages.Welcome(row, newsletter, subscriber, latest),
        MessageKind.WhatsAppPaused when pause is { PausedAtUtc: not null } => messages.WhatsAppPaused(row, newsletter, pause),
        MessageKind.FeedDraftWaiting when campaign is { Status: CampaignStatus.Draft } => messages.FeedDraftWaiting(row, newsletter, campaign),
        MessageKind.DoubleOptIn when subscriber is { Status: SubscriberStatus.Pending } && doi is not null => messages.DoubleOptIn(row, newsletter, subscriber, doi),
        MessageKind.Campaign when subscriber is { Status: SubscriberStatus.Confirmed } && campaign is not null => messages.Newsletter(row, newsletter, campaign, subscriber),
        MessageKind.AccessLink when subscriber is not null && EmailAddress.Key(row.ToAddress) == subscriber.EmailKey => messages.AccessLink(row, newsletter, subscriber),
        MessageKind.AddressChange when subscriber?.PendingEmail is { } pending && EmailAddress.Key(pending) == EmailAddress.Key(row.ToAddress)
            => messages.AddressChange(row, newsletter, subscriber),
        MessageKind.Test when campaign is not null => messages.Newsletter(row, newsletter, campaign, subscriber: null),
        _ => null,
    };

    internal TimeSpan RetryDelay(int attempt)
    {
        var options = sending.Value;
        var factor = Math.Pow(options.RetryBackoffFactor, Math.Min(attempt - 1, 30));
        var ticks = Math.Min(options.FirstRetryDelay.Ticks * factor, options.MaxRetryDelay.Ticks);
        return TimeSpan.FromTicks((long)ticks);
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
