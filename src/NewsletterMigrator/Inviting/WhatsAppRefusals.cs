using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Inviting;

/// <summary>Meta's refusal of one message: its error code (null when the answer had none), the HTTP status (null from a webhook or a dead connection).</summary>
public sealed record WhatsAppRefusal(int? Code, HttpStatusCode? Status, string Error, TimeSpan? RetryAfter = null)
{
    public WhatsAppErrorAction Action => WhatsAppErrors.Classify(Code, Status);
}

/// <summary>
/// Carries out what <see cref="WhatsAppErrors"/> says a refusal means, for the worker's synchronous answers and the
/// "failed" status webhooks alike. The caller passes the rows it may write (the worker: its own lease; the webhook:
/// the message under that wamid while it is still on its way), so a late or repeated answer changes nothing.
/// </summary>
public sealed class WhatsAppRefusals(AppDbContext db, WhatsAppAccounts accounts, PhoneObjections objections, IOptions<WhatsAppOptions> options,
    TimeProvider clock, ILogger<WhatsAppRefusals> logger)
{
    /// <param name="rows">The message's row, filtered to the state in which the caller may write it.</param>
    /// <param name="message">The message as read before this answer.</param>
    /// <param name="attempts">Sends of this message so far, this one included.</param>
    public async Task<WhatsAppErrorAction> ApplyAsync(IQueryable<WhatsAppMessage> rows, WhatsAppMessage message, int attempts, WhatsAppRefusal refusal,
        CancellationToken ct = default)
    {
        var o = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        var action = refusal.Action;
        var error = Redact.Text(refusal.Error.Length > 500 ? refusal.Error[..500] : refusal.Error);
        switch (action)
        {
            case WhatsAppErrorAction.SlowDown:
                var quietUntil = now + (refusal.RetryAfter ?? o.SlowDownDelay);
                await RequeueAsync(rows, quietUntil, message.Attempts, message.DayDeferrals, refusal.Code, error, ct);
                // The limit is the number's, not this instance's: every instance holds back (the worker also slows its own pace).
                await accounts.QuietUntilAsync(quietUntil, ct);
                break;
            case WhatsAppErrorAction.PauseQueue:
                // Not this reader's fault: the message waits in the queue until the cause is fixed and the queue resumes.
                // A repeated webhook for a message no longer on its way must not pause a queue an admin has resumed since.
                if (await RequeueAsync(rows, now, message.Attempts, message.DayDeferrals, refusal.Code, error, ct) == 0) break;
                await accounts.PauseAsync(WhatsAppErrors.PauseKindFor(refusal.Code), error, "whatsapp", ct);
                break;
            case WhatsAppErrorAction.RetryNextDay when message.DayDeferrals < o.DayDeferrals:
                await RequeueAsync(rows, now + TimeSpan.FromDays(1), attempts, message.DayDeferrals + 1, refusal.Code, error, ct);
                break;
            case WhatsAppErrorAction.Retry when attempts < o.MaxAttempts:
            case WhatsAppErrorAction.Unknown when attempts < o.UnknownErrorAttempts:
                await RequeueAsync(rows, now + (refusal.RetryAfter ?? RetryDelay(attempts)), attempts, message.DayDeferrals, refusal.Code, error, ct);
                break;
            default:
                if (await FailAsync(rows, message, now, attempts, refusal.Code, error, action, ct) && action == WhatsAppErrorAction.Objection)
                    await accounts.CheckObjectionRateAsync(ct);
                break;
        }
        logger.LogWarning("WhatsApp message {RowId} refused ({Action}): {Error}", message.Id, action, error);
        return action;
    }

    private Task<int> RequeueAsync(IQueryable<WhatsAppMessage> rows, DateTime at, int attempts, int dayDeferrals, int? code, string error, CancellationToken ct) =>
        rows.ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, WhatsAppStatus.Queued).SetProperty(m => m.NextAttemptAtUtc, at)
            .SetProperty(m => m.Attempts, attempts).SetProperty(m => m.DayDeferrals, dayDeferrals)
            .SetProperty(m => m.LastError, error).SetProperty(m => m.LastErrorCode, code)
            .SetProperty(m => m.LeaseOwner, (string?)null).SetProperty(m => m.LeaseExpiresAtUtc, (DateTime?)null), ct);

    /// <summary>
    /// Records the message failed and, for the reader's own answers, what they mean: the contact "not on WhatsApp", or the
    /// objection (C41). One transaction: the failed record alone would leave nothing to carry out the objection again after
    /// a crash, and nobody should see the one without the other. False when the row was no longer the caller's to write.
    /// </summary>
    private async Task<bool> FailAsync(IQueryable<WhatsAppMessage> rows, WhatsAppMessage message, DateTime now, int attempts, int? code, string error,
        WhatsAppErrorAction action, CancellationToken ct)
    {
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var failed = await rows.ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, WhatsAppStatus.Failed).SetProperty(m => m.FailedAtUtc, now)
            .SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, error).SetProperty(m => m.LastErrorCode, code)
            .SetProperty(m => m.LeaseOwner, (string?)null).SetProperty(m => m.LeaseExpiresAtUtc, (DateTime?)null), ct);
        if (failed == 0) return false;
        if (action == WhatsAppErrorAction.NotOnWhatsApp)
            await db.Contacts.Where(c => c.Id == message.ContactId && c.NotOnWhatsAppAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.NotOnWhatsAppAtUtc, now), ct);
        if (action == WhatsAppErrorAction.Objection
            && await db.Contacts.Where(c => c.Id == message.ContactId).Select(c => c.PhoneHmac).SingleOrDefaultAsync(ct) is { Length: > 0 } hmac)
            await objections.ObjectAsync(hmac, WithdrawalChannel.WhatsApp, "whatsapp", ct);
        if (transaction is not null) await transaction.CommitAsync(ct);
        return true;
    }

    private TimeSpan RetryDelay(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 10));
        return TimeSpan.FromTicks(Math.Min((long)(options.Value.FirstRetryDelay.Ticks * factor), TimeSpan.FromHours(1).Ticks));
    }
}
