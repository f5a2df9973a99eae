using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Campaigns;

/// <summary>
/// The one way a campaign is paused (ARCHITECTURE "one owner"): by an editor, by the delivery worker (sender refused,
/// legal identity missing, the SMTP server failing), by a report of a refused sender from the bounce mailbox, and by
/// the campaign's own rates (<see cref="CampaignHealth"/>). Only a sending campaign is paused; each pause stores its
/// reason and who paused, and is audited. Runs inside the caller's transaction when one is open (the mailbox processor's,
/// so the pause commits with the report that caused it), else in its own. The delivery worker reaches it through
/// <see cref="ICampaignPauser"/>, the interface Sending owns.
/// </summary>
public sealed class CampaignPauses(AppDbContext db, TimeProvider clock) : ICampaignPauser
{
    /// <summary>What <see cref="Campaign.PauseReason"/> keeps; a longer reason is cut.</summary>
    public const int ReasonLength = 1000;

    /// <param name="reason">What the editor reads on the report and the dashboard; must name no reader (C20).</param>
    /// <param name="actor">Who paused: a user name, or a component (<see cref="CampaignHealth.Actor"/>, "delivery").</param>
    /// <param name="auditDetails">Appended to the audit entry after the campaign's id.</param>
    /// <param name="onlyIf">A further condition on the campaign row, checked in the same statement as the pause.</param>
    /// <returns>The campaigns this call paused: those not sending (or already paused by someone else) are left alone.</returns>
    public async Task<IReadOnlyList<int>> PauseAsync(IEnumerable<int> campaignIds, string reason, string actor, string? auditDetails = null,
        Expression<Func<Campaign, bool>>? onlyIf = null, CancellationToken ct = default)
    {
        reason = reason.Length > ReasonLength ? reason[..ReasonLength] : reason;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var paused = new List<int>();
        // One statement per campaign (a handful at most): its row count says whether this call paused it, so two
        // pausers at once audit it once.
        foreach (var id in campaignIds.Distinct())
        {
            var campaign = db.Campaigns.Where(c => c.Id == id && c.Status == CampaignStatus.Sending);
            if (onlyIf is not null) campaign = campaign.Where(onlyIf);
            var changed = await campaign.ExecuteUpdateAsync(u => u
                .SetProperty(c => c.Status, CampaignStatus.Paused)
                .SetProperty(c => c.PauseReason, reason)
                .SetProperty(c => c.PausedBy, actor), ct);
            if (changed == 0) continue;
            paused.Add(id);
            db.Audit(actor, "pause", auditDetails is null ? $"campaign {id}" : $"campaign {id}: {auditDetails}", now);
        }
        if (paused.Count > 0) await db.SaveChangesAsync(ct);
        if (transaction is not null) await transaction.CommitAsync(ct);
        return paused;
    }

    Task ICampaignPauser.PauseAsync(IReadOnlyCollection<int> campaignIds, string reason, string actor, CancellationToken ct) =>
        PauseAsync(campaignIds, reason, actor, ct: ct);

    public async Task<bool> PauseAsync(int campaignId, string reason, string actor, string? auditDetails = null,
        Expression<Func<Campaign, bool>>? onlyIf = null, CancellationToken ct = default) =>
        (await PauseAsync([campaignId], reason, actor, auditDetails, onlyIf, ct)).Count > 0;
}
