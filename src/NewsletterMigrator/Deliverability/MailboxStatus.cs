using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>What the dashboard shows of the bounce mailbox (issue 16.2, C44): whether it is read, and what waits for a person.</summary>
/// <param name="Enabled">False while Bounces:Imap:Host is empty: nothing below means anything then.</param>
/// <param name="LastSuccessAtUtc">When the reader last got through to the mailbox.</param>
/// <param name="LastError">The last error in words that name no reader; see <see cref="Failing"/> for whether it still stands.</param>
/// <param name="ConsecutiveErrors">Failed attempts since the last success.</param>
/// <param name="NeedsAttentionCount">Mails in the folder for a person at the last check (they leave it when staff move them away).</param>
/// <param name="NeedsAttentionOldestUtc">When the oldest of them arrived in the mailbox.</param>
/// <param name="Unprocessed">Mails the processor failed on within <see cref="MailboxStatus.UnprocessedWindow"/>, still tried or already filed for a person.</param>
public sealed record MailboxStatusView(
    bool Enabled,
    DateTime? LastSuccessAtUtc,
    string? LastError,
    DateTime? LastErrorAtUtc,
    int NeedsAttentionCount,
    DateTime? NeedsAttentionOldestUtc,
    DateTime NowUtc,
    int ConsecutiveErrors = 0,
    UnprocessedMails? Unprocessed = null)
{
    /// <summary>
    /// An ordinary dropped connection is followed by a reconnect within seconds; the dashboard says the mailbox cannot be
    /// read once the error stands: never reached yet, failed twice in a row, or unresolved for this long.
    /// </summary>
    public static readonly TimeSpan ErrorStandsAfter = TimeSpan.FromMinutes(1);

    /// <summary>The mailbox is unreachable (mails wait in it meanwhile): the last attempt failed, and the error stands.</summary>
    public bool Failing => Enabled && LastErrorAtUtc is { } error && (LastSuccessAtUtc is not { } success || error > success)
        && (LastSuccessAtUtc is null || ConsecutiveErrors >= 2 || NowUtc - error >= ErrorStandsAfter);

    public TimeSpan? OldestWaiting => NeedsAttentionOldestUtc is { } oldest && NeedsAttentionCount > 0 ? NowUtc - oldest : null;
}

/// <param name="Count">Mails the processor failed on recently.</param>
/// <param name="GaveUp">Of them, those filed for a person after <see cref="MailboxReader.GiveUpAfterAttempts"/> attempts.</param>
/// <param name="LastError">The type of the last error, for the admin who reports the bug.</param>
public sealed record UnprocessedMails(int Count, int GaveUp, string LastError);

public sealed class MailboxStatus(AppDbContext db, IOptions<BouncesOptions> options, TimeProvider clock)
{
    /// <summary>How long a mail the processor failed on stays on the dashboard: long enough for someone to report it.</summary>
    public static readonly TimeSpan UnprocessedWindow = TimeSpan.FromDays(7);

    public async Task<MailboxStatusView> GetAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var state = await db.MailboxStates.AsNoTracking().SingleAsync(s => s.Id == MailboxState.SingleId, ct);
        var since = now - UnprocessedWindow;
        // A mail processed at a later attempt is done: only those still tried or given up on count.
        var failures = await db.MailboxFailures.AsNoTracking()
            .Where(f => f.LastAttemptAtUtc >= since && (f.GaveUpAtUtc != null || !db.MailboxMails.Any(m => m.ContentSha256 == f.ContentSha256)))
            .OrderByDescending(f => f.LastAttemptAtUtc).Select(f => new { f.LastError, GaveUp = f.GaveUpAtUtc != null }).ToListAsync(ct);
        var unprocessed = failures.Count == 0 ? null : new UnprocessedMails(failures.Count, failures.Count(f => f.GaveUp), failures[0].LastError);
        return new MailboxStatusView(options.Value.Imap.Enabled, state.LastSuccessAtUtc, state.LastError, state.LastErrorAtUtc,
            state.NeedsAttentionCount, state.NeedsAttentionOldestUtc, now, state.ConsecutiveErrors, unprocessed);
    }
}
