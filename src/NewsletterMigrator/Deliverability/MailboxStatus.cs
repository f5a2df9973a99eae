using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>What the dashboard shows of the bounce mailbox (issue 16.2, C44): whether it is read, and what waits for a person.</summary>
/// <param name="Enabled">False while Bounces:Imap:Host is empty: nothing below means anything then.</param>
/// <param name="LastSuccessAtUtc">When the reader last got through to the mailbox.</param>
/// <param name="LastError">The last error in words that name no reader; see <see cref="Failing"/> for whether it still stands.</param>
/// <param name="NeedsAttentionCount">Mails in the folder for a person at the last check (they leave it when staff move them away).</param>
/// <param name="NeedsAttentionOldestUtc">When the oldest of them arrived in the mailbox.</param>
public sealed record MailboxStatusView(
    bool Enabled,
    DateTime? LastSuccessAtUtc,
    string? LastError,
    DateTime? LastErrorAtUtc,
    int NeedsAttentionCount,
    DateTime? NeedsAttentionOldestUtc,
    DateTime NowUtc)
{
    /// <summary>The last attempt failed (or none has succeeded yet): the mailbox is unreachable; mails wait in it meanwhile.</summary>
    public bool Failing => Enabled && LastErrorAtUtc is { } error && (LastSuccessAtUtc is not { } success || error > success);

    public TimeSpan? OldestWaiting => NeedsAttentionOldestUtc is { } oldest && NeedsAttentionCount > 0 ? NowUtc - oldest : null;
}

public sealed class MailboxStatus(AppDbContext db, IOptions<BouncesOptions> options, TimeProvider clock)
{
    public async Task<MailboxStatusView> GetAsync(CancellationToken ct = default)
    {
        var state = await db.MailboxStates.AsNoTracking().SingleAsync(s => s.Id == MailboxState.SingleId, ct);
        return new MailboxStatusView(options.Value.Imap.Enabled, state.LastSuccessAtUtc, state.LastError, state.LastErrorAtUtc,
            state.NeedsAttentionCount, state.NeedsAttentionOldestUtc, clock.GetUtcNow().UtcDateTime);
    }
}
