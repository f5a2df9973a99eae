using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Campaigns;

/// <summary>
/// A newsletter's campaigns. Every method takes the newsletter with the campaign and finds the campaign only within
/// it (issue 13.7): another newsletter's campaign id is treated as one that does not exist, and nothing changes.
/// </summary>
public sealed class CampaignService(AppDbContext db, Outbox outbox, CampaignFanOut fanOut, FanOutGate gate, CampaignPauses pauses, TimeProvider clock)
{
    /// <summary>The campaign, or null when the newsletter has no campaign with this id.</summary>
    public Task<Campaign?> FindAsync(int newsletterId, int campaignId, CancellationToken ct = default) =>
        db.Campaigns.AsNoTracking().Of(newsletterId, campaignId).SingleOrDefaultAsync(ct);

    /// <summary>
    /// Creates a draft (<paramref name="campaignId"/> null) or changes one; returns its id, or null when there is no
    /// such newsletter or the newsletter has no such campaign. Throws when the campaign is no longer a draft.
    /// </summary>
    public async Task<int?> SaveDraftAsync(int newsletterId, int? campaignId, string subject, string preheader, string bodyMarkdown, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        Campaign? campaign;
        if (campaignId is not { } id)
        {
            if (!await db.Newsletters.AnyAsync(n => n.Id == newsletterId, ct)) return null;
            campaign = new Campaign { NewsletterId = newsletterId, Subject = subject, Status = CampaignStatus.Draft, CreatedBy = userName, CreatedAtUtc = now };
            db.Campaigns.Add(campaign);
        }
        else
        {
            campaign = await db.Campaigns.Of(newsletterId, id).SingleOrDefaultAsync(ct);
            if (campaign is null) return null;
            if (campaign.Status != CampaignStatus.Draft) throw new InvalidOperationException("Only drafts can be edited.");
            campaign.Subject = subject;
        }
        campaign.Preheader = preheader;
        campaign.BodyMarkdown = bodyMarkdown;
        await db.SaveChangesAsync(ct);
        return campaign.Id;
    }

    /// <summary>
    /// Queues a test mail to each address, before campaign rows. Test mails go only to staff accounts
    /// and the newsletter's test list (<see cref="TestTargetsAsync"/>, C45): one other address and
    /// nothing is queued. Each send is audited with the recipients redacted.
    /// </summary>
    public async Task<TestSendResult> SendTestAsync(int newsletterId, int campaignId, IEnumerable<string> addresses, string userName, CancellationToken ct = default)
    {
        var campaign = await FindAsync(newsletterId, campaignId, ct);
        if (campaign is null) return new TestSendResult(TestSendOutcome.NotFound, 0, []);
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == campaign.NewsletterId, ct);
        var requested = addresses.Select(a => a.Trim()).Where(a => a.Length > 0).ToList();
        var invalid = requested.Where(a => !EmailAddress.TryNormalize(a, out _)).ToList();
        if (requested.Count == 0 || invalid.Count > 0) return new TestSendResult(TestSendOutcome.Invalid, 0, invalid);

        var normalized = requested.Select(a => EmailAddress.TryNormalize(a, out var n) ? n : a).ToList();
        var allowed = (await TestTargetsAsync(newsletter, ct)).Select(EmailAddress.Key).ToHashSet(StringComparer.Ordinal);
        var refused = requested.Where((_, i) => !allowed.Contains(EmailAddress.Key(normalized[i]))).ToList();
        if (refused.Count > 0) return new TestSendResult(TestSendOutcome.NotAllowed, 0, refused);

        var recipients = normalized.DistinctBy(EmailAddress.Key).ToList();
        foreach (var address in recipients)
            outbox.Queue(MessageKind.Test, campaign.NewsletterId, address, newsletter.DefaultLanguage, campaignId: campaignId);
        db.Audit(userName, "test-send", $"campaign {campaignId} to {string.Join(", ", recipients.Select(Redact.Email))}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        outbox.Wake();
        return new TestSendResult(TestSendOutcome.Queued, recipients.Count, []);
    }

    /// <summary>
    /// Where a test mail may go (C45): the active staff who work on this newsletter (<see cref="ActiveStaff.ActiveOnNewsletter"/>:
    /// its editors and every admin) and are not locked out, and the addresses an admin listed in the newsletter's settings.
    /// Staff first, sorted. The same list for everyone who opens the draft, editor or admin: a newsroom checks a draft
    /// with the people who work on that newsletter, and an editor of one newsletter does not learn who works on the
    /// others. A deactivated colleague or an open invitation (perhaps a mistyped address) gets no unpublished draft;
    /// anyone else an admin lists as a test address.
    /// </summary>
    public async Task<IReadOnlyList<string>> TestTargetsAsync(int newsletterId, CancellationToken ct = default) =>
        await TestTargetsAsync(await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, ct), ct);

    private async Task<IReadOnlyList<string>> TestTargetsAsync(Newsletter newsletter, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // A handful of rows; filtered here because SQLite cannot compare the DateTimeOffset of LockoutEnd.
        var accounts = await db.ActiveOnNewsletter(newsletter.Id).AsNoTracking().Select(u => new { u.Email, u.LockoutEnabled, u.LockoutEnd }).ToListAsync(ct);
        var staff = accounts.Where(u => !(u.LockoutEnabled && u.LockoutEnd > now))
            .Select(u => EmailAddress.TryNormalize(u.Email, out var address) ? address : null)
            .OfType<string>().Order(StringComparer.OrdinalIgnoreCase);
        return staff.Concat(TestRecipients.Parse(newsletter.TestRecipients).Addresses).DistinctBy(EmailAddress.Key).ToList();
    }

    /// <summary>
    /// Renders the body once, marks the campaign Preparing and writes one outbox row per confirmed
    /// subscriber in short batches (<see cref="CampaignFanOut"/>); only then does it turn to Sending.
    /// Returns the number of recipients (0 when it was cancelled while the rows were being written).
    /// </summary>
    public Task<int> StartAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default) =>
        StartAsync(newsletterId, campaignId, userName, afterBatch: null, ct);

    internal async Task<int> StartAsync(int newsletterId, int campaignId, string userName, Func<int, Task>? afterBatch, CancellationToken ct)
    {
        // Taken before the campaign turns Preparing, so no scheduler (of this or another instance) resumes the fan-out beside us.
        int? recipients = null;
        var ran = await gate.TryRunAsync(campaignId, async token =>
        {
            await using (var transaction = await db.Database.BeginTransactionAsync(token))
            {
                var campaign = await db.Campaigns.Of(newsletterId, campaignId).SingleOrDefaultAsync(token)
                               ?? throw new InvalidOperationException("The newsletter has no such campaign.");
                if (campaign.Status is not (CampaignStatus.Draft or CampaignStatus.Scheduled))
                    throw new InvalidOperationException("This campaign has already been started.");
                await EnsureOpenAsync(campaign.NewsletterId, token);
                var now = clock.GetUtcNow().UtcDateTime;
                campaign.BodyHtml = MarkdownRenderer.ToHtml(campaign.BodyMarkdown);
                campaign.Status = CampaignStatus.Preparing;
                campaign.StartedAtUtc = now;
                db.Audit(userName, "send", $"campaign {campaignId}", now);
                // Its public archive address is fixed with the start, whatever the archive's setting (issue 21): turned on
                // later, the archive shows the issues sent before under the addresses they have had all along.
                await Archive.ArchiveSlugs.SaveWithSlugAsync(db, campaign, token);
                await transaction.CommitAsync(token);
            }
            recipients = await fanOut.CompleteAsync(campaignId, afterBatch, token);
        }, ct);
        if (!ran) throw new InvalidOperationException("This campaign has already been started.");
        return recipients ?? 0;
    }

    /// <summary>
    /// One click sends a feed's draft (issue 19): breaking news or a digest that waited for an editor's approval. Only a
    /// feed's draft: a campaign an editor wrote still asks for the confirmation of the send form. Returns the number of
    /// recipients, or null when the newsletter has no such feed draft.
    /// </summary>
    public async Task<int?> ApproveFeedDraftAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default)
    {
        var campaign = await FindAsync(newsletterId, campaignId, ct);
        if (campaign is not { FeedId: not null, Status: CampaignStatus.Draft }) return null;
        var recipients = await StartAsync(newsletterId, campaignId, userName, ct);
        // After the start, so the trail names an approval only when the campaign went out (a refused start throws first).
        db.Audit(userName, "approve", $"campaign {campaignId} from feed {campaign.FeedId}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return recipients;
    }

    /// <summary>Schedules a draft to start by itself at <paramref name="startAtUtc"/> (entered in Europe/Berlin).</summary>
    public async Task ScheduleAsync(int newsletterId, int campaignId, DateTime startAtUtc, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (startAtUtc <= now) throw new ArgumentOutOfRangeException(nameof(startAtUtc), "The time lies in the past.");
        await EnsureOpenAsync(newsletterId, ct);
        var changed = await db.Campaigns.Of(newsletterId, campaignId).Where(c => c.Status == CampaignStatus.Draft || c.Status == CampaignStatus.Scheduled)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Scheduled).SetProperty(c => c.ScheduledForUtc, startAtUtc), ct);
        if (changed == 0) throw new InvalidOperationException("Only drafts can be scheduled.");
        db.Audit(userName, "schedule", $"campaign {campaignId} at {startAtUtc:u}", now);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Back to draft: a scheduled campaign that should not start after all.</summary>
    public async Task UnscheduleAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default)
    {
        var changed = await db.Campaigns.Of(newsletterId, campaignId).Where(c => c.Status == CampaignStatus.Scheduled)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Draft).SetProperty(c => c.ScheduledForUtc, (DateTime?)null), ct);
        if (changed == 0) throw new InvalidOperationException("The campaign is not scheduled.");
        db.Audit(userName, "unschedule", $"campaign {campaignId}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Stops leasing new rows; rows already handed to the SMTP server in this moment still finish.</summary>
    public async Task PauseAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default)
    {
        if (!await pauses.PauseAsync(campaignId, "paused by " + userName, userName, onlyIf: c => c.NewsletterId == newsletterId, ct: ct))
            throw new InvalidOperationException("Only a sending campaign can be paused.");
    }

    /// <summary>Resumes at once: rows waiting for a retry after an outage are due again now.</summary>
    public async Task ResumeAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Only a resume of the self-pause starts the rates afresh: that editor was shown the rates as the reason and went
        // on. After a pause by hand, for a refused sender or a failing server nobody acknowledged the rates; starting
        // afresh there would forget what was building up and let the campaign run on until RateMinimumAccepted
        // more mails went out (a pause and resume by hand would become a way round the self-pause).
        var changed = await db.Campaigns.Of(newsletterId, campaignId).Where(c => c.Status == CampaignStatus.Paused)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Sending).SetProperty(c => c.PauseReason, (string?)null)
                .SetProperty(c => c.ResumedAtUtc, c => c.PausedBy == CampaignHealth.Actor ? now : c.ResumedAtUtc)
                .SetProperty(c => c.PausedBy, (string?)null), ct);
        if (changed == 0) throw new InvalidOperationException("Only a paused campaign can be resumed.");
        await db.OutboundMessages.Where(m => m.CampaignId == campaignId && m.Kind == MessageKind.Campaign && m.Status == MessageStatus.Queued && m.NextAttemptAtUtc > now)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.NextAttemptAtUtc, now), ct);
        db.Audit(userName, "resume", $"campaign {campaignId}", now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        outbox.Wake();
    }

    /// <summary>Cancels what has not gone out yet; sent mail stays in the report.</summary>
    public async Task CancelAsync(int newsletterId, int campaignId, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var changed = await db.Campaigns.Of(newsletterId, campaignId)
            .Where(c => c.Status == CampaignStatus.Scheduled || c.Status == CampaignStatus.Preparing || c.Status == CampaignStatus.Sending || c.Status == CampaignStatus.Paused)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Cancelled).SetProperty(c => c.CompletedAtUtc, now), ct);
        if (changed == 0) throw new InvalidOperationException("This campaign cannot be cancelled.");
        await Outbox.CancelPendingOfCampaignAsync(db, campaignId, ct);
        db.Audit(userName, "cancel", $"campaign {campaignId}", now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>No campaign goes out under a newsletter without a complete legal identity (C38, C25).</summary>
    private async Task EnsureOpenAsync(int newsletterId, CancellationToken ct)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId, ct);
        if (!LegalReadiness.IsOpen(newsletter)) throw new LegalIdentityIncompleteException(newsletter.Slug);
    }
}
