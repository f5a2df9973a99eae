using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Campaigns;

/// <summary>
/// A campaign's steps that nobody clicks: a scheduled campaign starts when its time has come, a fan-out interrupted by a
/// crash or an error (a campaign left Preparing) is completed, and a sending campaign without pending mail is sent.
/// It ran inside the delivery worker until issue 18 (Sending does not call Campaigns); it looks every poll interval and
/// when the delivery worker runs out of mail (<see cref="OutboxIdleSignal"/>), as often as the worker did.
/// </summary>
public sealed class CampaignScheduler(
    IServiceScopeFactory scopes,
    OutboxIdleSignal outboxIdle,
    FanOutGate fanOuts,
    MessageFactory messages,
    IOptions<SendingOptions> sending,
    TimeProvider clock,
    ILogger<CampaignScheduler> logger) : BackgroundService
{
    /// <summary>The audit trail's actor for a scheduled start.</summary>
    public const string Actor = "scheduler";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Campaign scheduling failed; the next round tries again");
                }
                await outboxIdle.WaitAsync(sending.Value.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    internal async Task RunOnceAsync(CancellationToken ct)
    {
        await StartDueCampaignsAsync(ct);
        await CompleteFanOutsAsync(ct);
        await FinishSentCampaignsAsync(ct);
    }

    private async Task StartDueCampaignsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.Campaigns.Where(c => c.Status == CampaignStatus.Scheduled && c.ScheduledForUtc <= now)
            .Join(db.Newsletters, c => c.NewsletterId, n => n.Id, (c, n) => new { c.Id, Newsletter = n }).ToListAsync(ct);
        // A campaign due under a newsletter that is not open (C38) waits scheduled until it is, as the checklist says.
        foreach (var d in due.Where(d => LegalReadiness.IsOpen(d.Newsletter)))
        {
            var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
            try { await campaigns.StartAsync(d.Newsletter.Id, d.Id, Actor, ct); }
            catch (InvalidOperationException) { /* started or cancelled meanwhile */ }
        }
    }

    /// <summary>Unless the fan-out is still running here or on another instance (an editor's start, or a previous round's).</summary>
    private async Task CompleteFanOutsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var preparing = await db.Campaigns.Where(c => c.Status == CampaignStatus.Preparing).Select(c => c.Id).ToListAsync(ct);
        foreach (var id in preparing)
            await fanOuts.TryRunAsync(id, token => scope.ServiceProvider.GetRequiredService<CampaignFanOut>().CompleteAsync(id, token), ct);
    }

    /// <summary>A sending campaign with no queued or leased mail left is sent; its cached body is no longer needed.</summary>
    private async Task FinishSentCampaignsAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var finished = await db.Campaigns
            .Where(c => c.Status == CampaignStatus.Sending && !db.OutboundMessages.Any(m =>
                m.CampaignId == c.Id && m.Kind == MessageKind.Campaign && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Leased)))
            .Select(c => c.Id).ToListAsync(ct);
        if (finished.Count == 0) return;
        await db.Campaigns.Where(c => finished.Contains(c.Id) && c.Status == CampaignStatus.Sending)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Sent).SetProperty(c => c.CompletedAtUtc, now), ct);
        foreach (var id in finished) messages.ForgetCampaign(id);
    }
}
