using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Consent;

/// <summary>What a sign-up request carries as proof (C7).</summary>
public sealed record SignUpRequest(
    Newsletter Newsletter,
    ConsentText ConsentText,
    string Email,
    string Language,
    Guid? InvitationContactId,
    string? IpAddress,
    string? UserAgent,
    string Page)
{
    /// <summary>The reader confirmed being 16 or older (C6); the form requires it, the ledger records it (C43).</summary>
    public bool AgeConfirmed { get; init; }
}

/// <summary>NotOpen: the newsletter's legal identity is incomplete, so it takes no sign-up and sends no DOI mail (C38).</summary>
public enum SignUpOutcome { Accepted, InvalidEmail, TooManyForAddress, NotOpen }

/// <summary>
/// A sign-up stores the subscriber, the consent event and the queued DOI mail in one transaction.
/// The outcome is the same for new, pending, confirmed and suppressed addresses (C30).
/// </summary>
public sealed class SignUpService(AppDbContext db, Outbox outbox, MessageFactory messages, TokenService tokens, IOptions<ConsentOptions> options,
    TimeProvider clock, ILogger<SignUpService> logger, SignUpWriter writer)
{
    /// <summary>v2: names the controller, carries the Impressum and says until when the link is valid (C39).</summary>
    public const string DoiTemplateVersion = "doi-v2";

    /// <summary>Every answer of the sign-up form takes at least this long (C30).</summary>
    public TimeSpan MinimumDuration => options.Value.SignUpMinimumDuration;

    /// <summary>
    /// Checks the request, then hands it to <see cref="SignUpWriter"/>, which writes it with the sign-ups that arrived at
    /// the same time in one transaction (group commit) and answers after the commit.
    /// </summary>
    public async Task<SignUpOutcome> SignUpAsync(SignUpRequest request, CancellationToken ct = default)
    {
        if (!LegalReadiness.IsOpen(request.Newsletter)) return SignUpOutcome.NotOpen;
        if (!EmailAddress.TryNormalize(request.Email, out var email)) return SignUpOutcome.InvalidEmail;
        return await writer.SubmitAsync(request, email, ct);
    }

    /// <summary>
    /// One sign-up inside <see cref="SignUpWriter"/>'s transaction, on its own: the writer's fallback when a batch could
    /// not be written as a whole. The same rules as the batch (<see cref="Apply"/>), on the state of this one address.
    /// </summary>
    /// <returns>The outcome, and whether a DOI mail was queued (the writer wakes the delivery worker after its commit).</returns>
    internal async Task<(SignUpOutcome Outcome, bool DoiQueued)> SignUpInTransactionAsync(SignUpRequest request, string email, CancellationToken ct = default)
    {
        var batch = await LoadBatchAsync([(request, email)], ct);
        var result = Apply(batch, request, email);
        await SaveAsync(batch, ct);
        return result;
    }

    /// <summary>Loads what <see cref="Apply"/> reads for these sign-ups, with their addresses locked (<see cref="SignUpBatch"/>).</summary>
    internal Task<SignUpBatch> LoadBatchAsync(IEnumerable<(SignUpRequest Request, string Email)> signUps, CancellationToken ct = default) =>
        SignUpBatch.LoadAsync(db, clock, signUps.Select(s => (s.Request.Newsletter.Id, EmailAddress.Key(s.Email))).ToList(), ct);

    /// <summary>
    /// The rules of one sign-up, against the batch's state: reads, counts and adds to the context without a statement of
    /// its own; <see cref="SaveAsync"/> writes the batch. The state holds the lock of every address (<see cref="RowLocks"/>)
    /// and records what each sign-up wrote, so simultaneous sign-ups of one address see each other: one subscriber row, and
    /// the per-address limit, the resend interval and the DOI cap hold whatever the interleaving (issue 13).
    /// </summary>
    internal (SignUpOutcome Outcome, bool DoiQueued) Apply(SignUpBatch batch, SignUpRequest request, string email)
    {
        var key = EmailAddress.Key(email);
        // The newsletter as stored now, not the page's copy (which may come from ReaderCache): a newsletter whose legal
        // identity became incomplete a moment ago, also through another instance, takes no sign-up (C38).
        var newsletter = batch.Newsletter(request.Newsletter.Id);
        if (newsletter is null || !LegalReadiness.IsOpen(newsletter)) return (SignUpOutcome.NotOpen, false);

        var subscriber = batch.Subscriber(newsletter.Id, key);
        // The time is read once the lock is held, so the ledger's times follow the order the sign-ups took effect.
        var now = clock.GetUtcNow().UtcDateTime;

        // C31 per target address, counted in the ledger (loaded with the batch, plus this batch's own entries).
        var knownId = subscriber?.Id ?? Guid.Empty;
        var recent = batch.Count(knownId, ConsentEventKind.SignUp, now - SignUpBatch.SignUpWindow);
        if (recent >= Math.Max(1, options.Value.SignUpsPerAddressPerHour))
        {
            logger.LogWarning("Sign-up limit reached for {Address} on newsletter {NewsletterId}", Redact.Email(email), newsletter.Id);
            return (SignUpOutcome.TooManyForAddress, false);
        }
        var capReached = DoiCap.Reached(batch.Count(knownId, ConsentEventKind.DoiQueued, now - DoiCap.Window), options.Value.DoiMailsPerAddressPerDay);

        var sendDoi = true;
        if (subscriber is null)
        {
            var id = Guid.CreateVersion7();
            subscriber = new Subscriber
            {
                Id = id,
                NewsletterId = newsletter.Id,
                Email = email,
                EmailKey = key,
                Language = request.Language,
                Status = SubscriberStatus.Pending,
                ContactId = request.InvitationContactId,
                UnsubscribeTokenHash = TokenService.Hash(tokens.Create(TokenPurpose.Unsubscribe, id, 0)),
                CreatedAtUtc = now,
            };
            db.Subscribers.Add(subscriber);
            batch.Add(subscriber);
        }
        else if (subscriber.Status == SubscriberStatus.Confirmed)
        {
            sendDoi = false; // already subscribed: no mail, and the page says nothing different
        }
        else if (subscriber.Status == SubscriberStatus.Pending
                 && subscriber.LastDoiQueuedAtUtc > now - options.Value.DoiResendInterval)
        {
            sendDoi = false; // nobody can flood an inbox through this form
        }
        else
        {
            // Pending (interval passed), unsubscribed or bounced: a fresh consent starts a fresh DOI.
            subscriber.Status = SubscriberStatus.Pending;
            subscriber.Language = request.Language;
            subscriber.ContactId ??= request.InvitationContactId;
        }

        ConsentLedger.SignedUp(db, subscriber, request, now);
        batch.Record(subscriber.Id, ConsentEventKind.SignUp, now);

        if (request.InvitationContactId is { } contactId) batch.SignedUpContacts.Add((contactId, now));

        // C42: past the daily cap the reader sees the same answer, only no mail goes out (C30).
        if (sendDoi) sendDoi = QueueDoiUnlessCapped(capReached, newsletter, subscriber, now);
        if (sendDoi) batch.Record(subscriber.Id, ConsentEventKind.DoiQueued, now);
        logger.LogInformation("Sign-up for newsletter {NewsletterId}: {Address}, DOI queued: {Queued}", newsletter.Id, Redact.Email(email), sendDoi);
        return (SignUpOutcome.Accepted, sendDoi);
    }

    /// <summary>Writes what <see cref="Apply"/> added for the batch's sign-ups: one SaveChanges for all of them.</summary>
    internal async Task SaveAsync(SignUpBatch batch, CancellationToken ct = default)
    {
        // Only invitation sign-ups mark their contact, so this is one statement per such sign-up, not per batch.
        foreach (var (contactId, at) in batch.SignedUpContacts)
        {
            await db.Contacts.Where(c => c.Id == contactId && c.SignedUpAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.SignedUpAtUtc, at), ct);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Issues a new confirm link (the old one stops working) and queues the DOI mail, unless the address has
    /// had its DOI mails for the day (C42). Records the template version and the hash of the exact wording (C43).
    /// </summary>
    /// <returns>False when the daily cap held the mail back; nothing changed then.</returns>
    /// <remarks>The caller holds the subscriber's lock (<see cref="RowLocks"/>), or two requests could both pass the cap.</remarks>
    internal async Task<bool> TryQueueDoiAsync(Newsletter newsletter, Subscriber subscriber, DateTime now, CancellationToken ct) =>
        QueueDoiUnlessCapped(await DoiCap.ReachedAsync(db, subscriber.Id, ConsentEventKind.DoiQueued, options.Value.DoiMailsPerAddressPerDay, now, ct),
            newsletter, subscriber, now);

    /// <summary>The sign-up counts the cap before it knows whether a mail is due (the same reads for every address, C30), the other paths just before.</summary>
    private bool QueueDoiUnlessCapped(bool capReached, Newsletter newsletter, Subscriber subscriber, DateTime now)
    {
        if (capReached)
        {
            logger.LogWarning("Daily DOI cap reached for subscriber {SubscriberId}; no mail queued", subscriber.Id);
            return false;
        }
        QueueDoi(newsletter, subscriber, now);
        return true;
    }

    private void QueueDoi(Newsletter newsletter, Subscriber subscriber, DateTime now)
    {
        subscriber.ConfirmGeneration++;
        subscriber.ConfirmTokenHash = TokenService.Hash(tokens.Create(TokenPurpose.Confirm, subscriber.Id, subscriber.ConfirmGeneration));
        subscriber.ConfirmTokenExpiresAtUtc = now + options.Value.ConfirmLinkLifetime;
        subscriber.LastDoiQueuedAtUtc = now;
        var message = outbox.Queue(MessageKind.DoubleOptIn, subscriber.NewsletterId, subscriber.Email, subscriber.Language, subscriber.Id);
        ConsentLedger.DoiQueued(db, subscriber, message.MessageId,
            messages.DoiText(newsletter, subscriber.Language, subscriber.ConfirmTokenExpiresAtUtc).Sha256(), now);
    }
}
