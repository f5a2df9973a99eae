using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Consent;

public enum ConfirmState { Unknown, Ready, Expired, AlreadyConfirmed }

/// <summary>The second step of the double opt-in: only an explicit POST confirms (C9); links expire and work once (C29).</summary>
public sealed class ConfirmationService(AppDbContext db, SignUpService signUps, Outbox outbox, KeyRing keys,
    IOptions<ConsentOptions> options, TimeProvider clock, ILogger<ConfirmationService> logger)
{
    public async Task<(ConfirmState State, Subscriber? Subscriber)> InspectAsync(string token, CancellationToken ct = default)
    {
        var hash = TokenService.TryHash(token);
        if (hash is null) return (ConfirmState.Unknown, null);
        var subscriber = await db.Subscribers.SingleOrDefaultAsync(s => s.ConfirmTokenHash == hash, ct);
        return StateOf(token, subscriber);
    }

    private (ConfirmState State, Subscriber? Subscriber) StateOf(string token, Subscriber? subscriber)
    {
        // The index finds the row; the constant-time comparison is what decides.
        if (subscriber?.ConfirmTokenHash is null || !TokenService.Matches(token, subscriber.ConfirmTokenHash))
            return (ConfirmState.Unknown, null);
        if (subscriber.Status == SubscriberStatus.Confirmed) return (ConfirmState.AlreadyConfirmed, subscriber);
        if (subscriber.Status != SubscriberStatus.Pending) return (ConfirmState.Unknown, null);
        if (subscriber.ConfirmTokenExpiresAtUtc < clock.GetUtcNow().UtcDateTime) return (ConfirmState.Expired, subscriber);
        return (ConfirmState.Ready, subscriber);
    }

    /// <summary>
    /// Looks the link up again under the subscriber's lock (<see cref="RowLocks"/>): two clicks at once, or a click
    /// while the reader unsubscribes or a new link is issued, act one after another on what the other one stored.
    /// </summary>
    private async Task<(ConfirmState State, Subscriber? Subscriber)> InspectLockedAsync(string token, CancellationToken ct)
    {
        var (state, subscriber) = await InspectAsync(token, ct);
        if (subscriber is null) return (state, null);
        return await db.LockAsync(subscriber, ct) ? StateOf(token, subscriber) : (ConfirmState.Unknown, null);
    }

    public async Task<ConfirmState> ConfirmAsync(string token, string? ipAddress, string? userAgent, CancellationToken ct = default)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var (state, subscriber) = await InspectLockedAsync(token, ct);
        if (state != ConfirmState.Ready || subscriber is null) return state;

        var now = clock.GetUtcNow().UtcDateTime;
        var confirmedBefore = subscriber.ConfirmedAtUtc;
        subscriber.Status = SubscriberStatus.Confirmed;
        subscriber.ConfirmedAtUtc = now;
        subscriber.ConfirmTokenExpiresAtUtc = now; // used once: a second click only reads "already confirmed"
        ConsentLedger.Confirmed(db, subscriber, ipAddress, userAgent, now);

        // The reader's own confirmed DOI lifts an earlier suppression of the address (C18).
        var emailHash = SuppressionHash.Email(keys, subscriber.EmailKey);
        await db.Suppressions.Where(s => s.Kind == SuppressionKind.Email && s.Hash == emailHash).ExecuteDeleteAsync(ct);

        if (subscriber.ContactId is { } contactId)
        {
            // The phone number has done its job once the reader confirmed (C16).
            await db.Contacts.Where(c => c.Id == contactId)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.PhoneEncrypted, (byte[]?)null).SetProperty(c => c.ConfirmedAtUtc, now), ct);
        }
        // The welcome (issue 21), queued with the confirmation or not at all; a mail of its own after the DOI mail (C8).
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == subscriber.NewsletterId, ct);
        var welcomeQueued = WelcomeQueue.QueueIfDue(outbox, newsletter, subscriber, confirmedBefore, now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        if (welcomeQueued) outbox.Wake();
        logger.LogInformation("Subscriber {SubscriberId} confirmed", subscriber.Id);
        return ConfirmState.Ready;
    }

    /// <summary>An expired link offers a new mail; the resend interval (C30) and the daily cap (C42) still apply.</summary>
    public async Task ResendAsync(string token, CancellationToken ct = default)
    {
        // Under the lock, so two presses at once queue one mail and the interval and the cap count both (C42).
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var (state, subscriber) = await InspectLockedAsync(token, ct);
        if (state != ConfirmState.Expired || subscriber is null) return;
        var now = clock.GetUtcNow().UtcDateTime;
        if (subscriber.LastDoiQueuedAtUtc > now - options.Value.DoiResendInterval) return;
        var newsletter = await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == subscriber.NewsletterId, ct);
        // A newsletter that is not open sends no DOI mail (C38), and so queues none that would count toward the cap.
        if (!Newsletters.LegalReadiness.IsOpen(newsletter)) return;
        // The daily cap (C42) applies here too; the page answers the same either way (C30).
        if (!await signUps.TryQueueDoiAsync(newsletter, subscriber, now, ct)) return;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        outbox.Wake();
    }
}
