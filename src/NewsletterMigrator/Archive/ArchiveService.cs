using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Archive;

/// <summary>One issue as the archive shows it: the campaign's fixed copy, never a reader's mail (no personal link in it).</summary>
public sealed record ArchiveEntry(int CampaignId, string ArchiveSlug, string Subject, string Preheader, DateTime SentAtUtc, string? BodyHtml, string BodyMarkdown);

public enum IssueState { NotFound, Withdrawn, Shown }

/// <summary>What /n/{slug}/archive/{archiveSlug} shows: nothing (404), a withdrawn issue (410), or the issue.</summary>
public sealed record IssueLookup(IssueState State, Newsletter? Newsletter = null, ArchiveEntry? Issue = null);

/// <summary>One page of the archive list (newest first); null <see cref="ArchivePage"/> means no list to show (404).</summary>
public sealed record ArchivePage(Newsletter Newsletter, IReadOnlyList<ArchiveEntry> Issues, int Page, bool HasNext);

public enum WithdrawOutcome { Done, Unchanged, NotFound, NotArchived }

/// <summary>
/// The public archive's rules (issue 21). Off: nothing is public. Unlisted: each started issue at its own address, no list,
/// no feed. Public: list and RSS feed too. An issue is shown once its sending started (it has an archive slug), unless it
/// was cancelled or an admin withdrew it (then 410 Gone). The public copy is the campaign's body as fixed at the start,
/// which holds no personal link: those are added per recipient at send time (C29), in the mail's footer only.
/// </summary>
public sealed class ArchiveService(AppDbContext db, ReaderCache cache, TimeProvider clock)
{
    public const int PageSize = 50;
    public const int FeedSize = 20;

    /// <summary>Search engines may index the archive only when it is public and the newsletter opted in.</summary>
    public static bool Indexable(Newsletter newsletter) => newsletter.Archive == ArchiveMode.Public && newsletter.ArchiveIndexable;

    public async Task<IssueLookup> IssueAsync(string newsletterSlug, string archiveSlug, CancellationToken ct = default)
    {
        var newsletter = await cache.NewsletterBySlugAsync(newsletterSlug);
        if (newsletter is not { Archive: not ArchiveMode.Off }) return new IssueLookup(IssueState.NotFound);
        var campaign = await db.Campaigns.AsNoTracking()
            .Where(c => c.NewsletterId == newsletter.Id && c.ArchiveSlug == archiveSlug && c.Status != CampaignStatus.Cancelled)
            .Select(c => new { Entry = new ArchiveEntry(c.Id, c.ArchiveSlug!, c.Subject, c.Preheader, c.StartedAtUtc!.Value, c.BodyHtml, c.BodyMarkdown), c.ArchiveWithdrawnAtUtc })
            .SingleOrDefaultAsync(ct);
        if (campaign is null) return new IssueLookup(IssueState.NotFound);
        return campaign.ArchiveWithdrawnAtUtc is null
            ? new IssueLookup(IssueState.Shown, newsletter, campaign.Entry)
            : new IssueLookup(IssueState.Withdrawn, newsletter);
    }

    /// <summary>A page of the list (1-based), only for a public archive; null otherwise and for a page past the end.</summary>
    public async Task<ArchivePage?> PageAsync(string newsletterSlug, int page, CancellationToken ct = default)
    {
        var newsletter = await cache.NewsletterBySlugAsync(newsletterSlug);
        if (newsletter is not { Archive: ArchiveMode.Public } || page < 1 || page > 100_000) return null;
        // The list needs no bodies: one row per issue of a few hundred bytes.
        var rows = await Shown(newsletter.Id).Skip((page - 1) * PageSize).Take(PageSize + 1).Select(Summary).ToListAsync(ct);
        if (rows.Count == 0 && page > 1) return null;
        return new ArchivePage(newsletter, rows.Take(PageSize).ToList(), page, rows.Count > PageSize);
    }

    /// <summary>The newsletter and its latest issues with their bodies for the RSS feed; null when the archive is not public.</summary>
    public async Task<(Newsletter Newsletter, IReadOnlyList<ArchiveEntry> Issues)?> FeedAsync(string newsletterSlug, CancellationToken ct = default)
    {
        var newsletter = await cache.NewsletterBySlugAsync(newsletterSlug);
        if (newsletter is not { Archive: ArchiveMode.Public }) return null;
        return (newsletter, await LatestAsync(newsletter, FeedSize, withBodies: true, ct));
    }

    /// <summary>The latest shown issues, newest first; none when the archive is off.</summary>
    public async Task<IReadOnlyList<ArchiveEntry>> LatestAsync(Newsletter newsletter, int count, bool withBodies, CancellationToken ct = default)
    {
        if (newsletter.Archive == ArchiveMode.Off || count <= 0) return [];
        var shown = Shown(newsletter.Id).Take(count);
        return await shown.Select(withBodies ? WithBody : Summary).ToListAsync(ct);
    }

    // An issue for the list (no body: a few hundred bytes per row) or for its page and the feed.
    private static readonly System.Linq.Expressions.Expression<Func<Campaign, ArchiveEntry>> Summary =
        c => new ArchiveEntry(c.Id, c.ArchiveSlug!, c.Subject, c.Preheader, c.StartedAtUtc!.Value, null, "");
    private static readonly System.Linq.Expressions.Expression<Func<Campaign, ArchiveEntry>> WithBody =
        c => new ArchiveEntry(c.Id, c.ArchiveSlug!, c.Subject, c.Preheader, c.StartedAtUtc!.Value, c.BodyHtml, c.BodyMarkdown);

    /// <summary>An admin takes a sent issue out of the archive: its address answers 410 Gone, list and feed drop it. Audited.</summary>
    public Task<WithdrawOutcome> WithdrawAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default) =>
        ChangeAsync(newsletterId, campaignId, userName, withdraw: true, ct);

    /// <summary>Puts a withdrawn issue back, at the same address. Audited.</summary>
    public Task<WithdrawOutcome> RestoreAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default) =>
        ChangeAsync(newsletterId, campaignId, userName, withdraw: false, ct);

    private async Task<WithdrawOutcome> ChangeAsync(int newsletterId, int campaignId, string userName, bool withdraw, CancellationToken ct)
    {
        var campaign = await db.Campaigns.Of(newsletterId, campaignId).SingleOrDefaultAsync(ct);
        if (campaign is null) return WithdrawOutcome.NotFound;
        if (campaign.ArchiveSlug is null) return WithdrawOutcome.NotArchived;
        if (withdraw == campaign.ArchiveWithdrawnAtUtc is not null) return WithdrawOutcome.Unchanged;
        var now = clock.GetUtcNow().UtcDateTime;
        campaign.ArchiveWithdrawnAtUtc = withdraw ? now : null;
        campaign.ArchiveWithdrawnBy = withdraw ? userName : null;
        db.Audit(userName, withdraw ? "archive-withdraw" : "archive-restore", $"campaign {campaignId} ({campaign.ArchiveSlug})", now);
        await db.SaveChangesAsync(ct);
        return WithdrawOutcome.Done;
    }

    /// <summary>The admin's archive settings for a newsletter; false when there is no such newsletter. Audited when they change.</summary>
    public async Task<bool> SaveSettingsAsync(int newsletterId, ArchiveMode mode, bool indexable, string userName, CancellationToken ct = default)
    {
        var newsletter = await db.Newsletters.SingleOrDefaultAsync(n => n.Id == newsletterId, ct);
        if (newsletter is null) return false;
        if (newsletter.Archive == mode && newsletter.ArchiveIndexable == indexable) return true;
        newsletter.Archive = mode;
        newsletter.ArchiveIndexable = indexable;
        db.Audit(userName, "archive-settings", Describe(newsletter), clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>The audit trail's and the command line's words for a newsletter's archive settings.</summary>
    public static string Describe(Newsletter newsletter) =>
        $"newsletter {newsletter.Slug}: archive {newsletter.Archive.ToString().ToLowerInvariant()}, indexing {(newsletter.ArchiveIndexable ? "on" : "off")}";

    /// <summary>
    /// Started (an archive address is given only by the start, with the start time and the fixed body: CampaignService),
    /// not cancelled, not withdrawn; newest first.
    /// </summary>
    private IQueryable<Campaign> Shown(int newsletterId) =>
        db.Campaigns.AsNoTracking()
            .Where(c => c.NewsletterId == newsletterId && c.ArchiveSlug != null && c.Status != CampaignStatus.Cancelled && c.ArchiveWithdrawnAtUtc == null)
            .OrderByDescending(c => c.StartedAtUtc).ThenByDescending(c => c.Id);
}
