using System.Globalization;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Campaigns;

/// <summary>Live figures of a running campaign and the report afterwards, straight from the outbox.</summary>
public sealed class CampaignProgress(AppDbContext db, TimeProvider clock)
{
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    public sealed record Snapshot(
        int CampaignId, CampaignStatus Status, string? PauseReason, int Recipients, int Sent, int Failed, int Queued, int Cancelled,
        double MessagesPerSecond, TimeSpan? TimeLeft)
    {
        public int Done => Sent + Failed + Cancelled;
        public int Percent => Recipients == 0 ? 100 : (int)Math.Min(100, Done * 100L / Recipients);
    }

    public sealed record FailureGroup(string Reply, int Count);

    /// <summary>The figures, or null when the newsletter has no such campaign.</summary>
    public async Task<Snapshot?> GetAsync(int newsletterId, int campaignId, CancellationToken ct = default)
    {
        var campaign = await db.Campaigns.AsNoTracking().Of(newsletterId, campaignId).SingleOrDefaultAsync(ct);
        if (campaign is null) return null;
        var counts = await Rows(campaignId).GroupBy(m => m.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        int Count(params MessageStatus[] statuses) => counts.Where(c => statuses.Contains(c.Key)).Sum(c => c.Count);

        var since = clock.GetUtcNow().UtcDateTime - RateWindow;
        var recent = await Rows(campaignId).CountAsync(m => m.Status == MessageStatus.Sent && m.SentAtUtc > since, ct);
        // Before a full minute has passed, divide by the time actually spent sending.
        var window = campaign.StartedAtUtc is { } started && clock.GetUtcNow().UtcDateTime - started < RateWindow
            ? Math.Max(1, (clock.GetUtcNow().UtcDateTime - started).TotalSeconds)
            : RateWindow.TotalSeconds;
        var rate = recent / window;
        var queued = Count(MessageStatus.Queued, MessageStatus.Leased);
        TimeSpan? left = queued == 0 ? TimeSpan.Zero : rate > 0 && campaign.Status == CampaignStatus.Sending ? TimeSpan.FromSeconds(queued / rate) : null;
        return new Snapshot(campaignId, campaign.Status, campaign.PauseReason, campaign.RecipientCount,
            Count(MessageStatus.Sent), Count(MessageStatus.Failed), queued, Count(MessageStatus.Cancelled), Math.Round(rate, 1), left);
    }

    /// <summary>Failures grouped by the SMTP reply, most frequent first.</summary>
    public async Task<List<FailureGroup>> FailuresAsync(int newsletterId, int campaignId, CancellationToken ct = default)
    {
        if (!await IsOwnAsync(newsletterId, campaignId, ct)) return [];
        var groups = await Rows(campaignId).Where(m => m.Status == MessageStatus.Failed)
            .GroupBy(m => m.LastReply ?? "")
            .Select(g => new { Reply = g.Key, Count = g.Count() })
            .ToListAsync(ct);
        return groups.OrderByDescending(g => g.Count).ThenBy(g => g.Reply, StringComparer.Ordinal).Select(g => new FailureGroup(g.Reply, g.Count)).ToList();
    }

    /// <summary>
    /// One line per recipient that did not receive the mail, for the editor's own follow-up.
    /// Cells starting with = + - @ tab or CR get a leading apostrophe, so a spreadsheet never runs them.
    /// Null when the newsletter has no such campaign.
    /// </summary>
    public async Task<byte[]?> FailuresCsvAsync(int newsletterId, int campaignId, CancellationToken ct = default)
    {
        if (!await IsOwnAsync(newsletterId, campaignId, ct)) return null;
        var rows = await Rows(campaignId).Where(m => m.Status == MessageStatus.Failed).OrderBy(m => m.Id)
            .Select(m => new { m.ToAddress, m.Status, m.Attempts, m.LastReply }).ToListAsync(ct);
        return SafeCsvWriter.ToBytes(csv =>
        {
            csv.WriteRow("address", "status", "attempts", "reply");
            foreach (var row in rows) csv.WriteRow(row.ToAddress, row.Status.ToString(), row.Attempts.ToString(CultureInfo.InvariantCulture), row.LastReply);
        });
    }

    // The campaign is checked once rather than each row filtered by newsletter: the progress poll's counts come from the
    // (CampaignId, Kind, Status, SentAtUtc) index alone, which a newsletter condition on the rows would defeat.
    private Task<bool> IsOwnAsync(int newsletterId, int campaignId, CancellationToken ct) => db.Campaigns.Of(newsletterId, campaignId).AnyAsync(ct);

    private IQueryable<OutboundMessage> Rows(int campaignId) =>
        db.OutboundMessages.Where(m => m.CampaignId == campaignId && m.Kind == MessageKind.Campaign);
}
