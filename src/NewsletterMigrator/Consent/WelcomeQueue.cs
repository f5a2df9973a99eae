using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Consent;

/// <summary>
/// The welcome mail after a confirmed DOI (issue 21): queued through the outbox in the confirmation's own transaction,
/// so a crash leaves both (the confirmation and its welcome) or neither; never part of the DOI mail, which stays neutral (C8).
/// </summary>
public static class WelcomeQueue
{
    /// <summary>
    /// Due when the newsletter has its welcome on, the reader never had one queued, and the reader was not a confirmed
    /// reader before it was switched on: no back-fill, also not when such a reader unsubscribes and confirms again later.
    /// <see cref="Subscriber.WelcomeQueuedAtUtc"/> is set here and never reset, so confirming again (a second click, or
    /// unsubscribe, sign-up and confirm) queues no second one. The caller holds the subscriber's lock (RowLocks), so two
    /// confirmations at once see each other's mark.
    /// </summary>
    /// <param name="confirmedBefore">The reader's earlier confirmation, if any (<see cref="Subscriber.ConfirmedAtUtc"/> before this one).</param>
    public static bool IsDue(Newsletter newsletter, Subscriber subscriber, DateTime? confirmedBefore, DateTime now) =>
        newsletter is { WelcomeEnabled: true, WelcomeEnabledAtUtc: { } since }
        && subscriber.WelcomeQueuedAtUtc is null
        && now >= since
        && (confirmedBefore is null || confirmedBefore >= since);

    /// <returns>True when a welcome was queued: the caller wakes the outbox after its commit.</returns>
    public static bool QueueIfDue(Outbox outbox, Newsletter newsletter, Subscriber subscriber, DateTime? confirmedBefore, DateTime now)
    {
        if (!IsDue(newsletter, subscriber, confirmedBefore, now)) return false;
        outbox.Queue(MessageKind.Welcome, newsletter.Id, subscriber.Email, subscriber.Language, subscriber.Id);
        subscriber.WelcomeQueuedAtUtc = now;
        return true;
    }
}
