using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Subscribers;

public enum AddressChangeOutcome { Queued, InvalidEmail, SameAddress }

public enum ChangeConfirmState { Unknown, Ready, Expired, Taken, Done }

/// <summary>
/// The preference page. The newsletter's own link (its unsubscribe token) allows status, language and
/// unsubscribing; everything that reveals or changes personal data needs a fresh, short-lived link mailed
/// to the subscribed address first, because newsletters get forwarded (C33).
/// </summary>
public sealed class ManageService(AppDbContext db, Outbox outbox, TokenService tokens, KeyRing keys,
    IOptions<ManageOptions> manage, IOptions<ConsentOptions> consent, TimeProvider clock, ILogger<ManageService> logger)
{
    public async Task SetLanguageAsync(Subscriber subscriber, string language, CancellationToken ct = default)
    {
        subscriber.Language = Languages.Normalize(language);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Queues the access link; false when one was queued within the interval (the page says the same either way).</summary>
    public async Task<bool> RequestAccessLinkAsync(Subscriber subscriber, CancellationToken ct = default)
    {
        // Under the subscriber's lock: two presses at once queue one mail, and the later one's link does not replace it.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await db.LockAsync(subscriber, ct)) return false;
        var now = clock.GetUtcNow().UtcDateTime;
        if (subscriber.LastAccessLinkQueuedAtUtc > now - manage.Value.AccessLinkInterval) return false;
        subscriber.AccessGeneration++;
        subscriber.AccessTokenHash = TokenService.Hash(tokens.Create(TokenPurpose.Access, subscriber.Id, subscriber.AccessGeneration));
        subscriber.AccessTokenExpiresAtUtc = now + manage.Value.AccessLinkLifetime;
        subscriber.LastAccessLinkQueuedAtUtc = now;
        outbox.Queue(MessageKind.AccessLink, subscriber.NewsletterId, subscriber.Email, subscriber.Language, subscriber.Id);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        outbox.Wake();
        logger.LogInformation("Access link queued for subscriber {SubscriberId}", subscriber.Id);
        return true;
    }

    /// <summary>The subscriber behind a valid, unexpired access link, or null.</summary>
    public async Task<Subscriber?> FindByAccessTokenAsync(string token, CancellationToken ct = default)
    {
        var hash = TokenService.TryHash(token);
        if (hash is null) return null;
        var subscriber = await db.Subscribers.SingleOrDefaultAsync(s => s.AccessTokenHash == hash, ct);
        if (subscriber?.AccessTokenHash is null || !TokenService.Matches(token, subscriber.AccessTokenHash)) return null;
        return subscriber.AccessTokenExpiresAtUtc >= clock.GetUtcNow().UtcDateTime ? subscriber : null;
    }

    /// <summary>Sends a DOI to the new address; the current address stays in use until the new one is confirmed.</summary>
    public async Task<AddressChangeOutcome> RequestAddressChangeAsync(Subscriber subscriber, string newAddress, string? ipAddress, string? userAgent,
        CancellationToken ct = default)
    {
        if (!EmailAddress.TryNormalize(newAddress, out var email)) return AddressChangeOutcome.InvalidEmail;
        if (EmailAddress.Key(email) == subscriber.EmailKey) return AddressChangeOutcome.SameAddress;
        // Counted under the subscriber's lock, so requests at once cannot all pass the cap.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await db.LockAsync(subscriber, ct)) return AddressChangeOutcome.Queued;
        var now = clock.GetUtcNow().UtcDateTime;
        // C42: the DOI to a new address counts against the same daily cap as the sign-up's DOI. Past it the
        // page answers as if the mail went out (C30), and nothing changes.
        if (await DoiCap.ReachedAsync(db, subscriber.Id, ConsentEventKind.AddressChangeRequested, consent.Value.DoiMailsPerAddressPerDay, now, ct))
        {
            logger.LogWarning("Daily DOI cap reached for subscriber {SubscriberId}; no address-change mail queued", subscriber.Id);
            return AddressChangeOutcome.Queued;
        }
        subscriber.PendingEmail = email;
        subscriber.ChangeGeneration++;
        subscriber.ChangeTokenHash = TokenService.Hash(tokens.Create(TokenPurpose.AddressChange, subscriber.Id, subscriber.ChangeGeneration));
        subscriber.ChangeTokenExpiresAtUtc = now + consent.Value.ConfirmLinkLifetime;
        var message = outbox.Queue(MessageKind.AddressChange, subscriber.NewsletterId, email, subscriber.Language, subscriber.Id);
        ConsentLedger.AddressChangeRequested(db, subscriber, message.MessageId, AddressChangeTemplateVersion, ipAddress, userAgent, now);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        outbox.Wake();
        logger.LogInformation("Address change requested for subscriber {SubscriberId} to {Address}", subscriber.Id, Redact.Email(email));
        return AddressChangeOutcome.Queued;
    }

    public const string AddressChangeTemplateVersion = "address-change-v1";

    public async Task<(ChangeConfirmState State, Subscriber? Subscriber)> InspectChangeAsync(string token, CancellationToken ct = default) =>
        await StateOfChangeAsync(token, await FindByChangeTokenAsync(token, ct), ct);

    private async Task<Subscriber?> FindByChangeTokenAsync(string token, CancellationToken ct) =>
        TokenService.TryHash(token) is { } hash ? await db.Subscribers.SingleOrDefaultAsync(s => s.ChangeTokenHash == hash, ct) : null;

    private async Task<(ChangeConfirmState State, Subscriber? Subscriber)> StateOfChangeAsync(string token, Subscriber? subscriber, CancellationToken ct)
    {
        if (subscriber?.ChangeTokenHash is null || !TokenService.Matches(token, subscriber.ChangeTokenHash)) return (ChangeConfirmState.Unknown, null);
        if (subscriber.PendingEmail is null) return (ChangeConfirmState.Done, subscriber);
        if (subscriber.ChangeTokenExpiresAtUtc < clock.GetUtcNow().UtcDateTime) return (ChangeConfirmState.Expired, subscriber);
        var key = EmailAddress.Key(subscriber.PendingEmail);
        if (await db.Subscribers.AnyAsync(s => s.NewsletterId == subscriber.NewsletterId && s.EmailKey == key && s.Id != subscriber.Id, ct))
            return (ChangeConfirmState.Taken, subscriber);
        return (ChangeConfirmState.Ready, subscriber);
    }

    /// <summary>Only the button's POST on the page the link opens changes the address (C9).</summary>
    public async Task<ChangeConfirmState> ConfirmChangeAsync(string token, string? ipAddress, string? userAgent, CancellationToken ct = default)
    {
        try
        {
            return await ConfirmChangeLockedAsync(token, ipAddress, userAgent, ct);
        }
        catch (DbUpdateException e) when (UniqueViolation.Is(e))
        {
            // On a server database a first sign-up of the new address can insert its row after the check above
            // (nobody could lock a row that did not exist yet); the unique index keeps the address taken.
            db.ChangeTracker.Clear();
            return ChangeConfirmState.Taken;
        }
    }

    /// <summary>
    /// Checks the link and whether the new address is free again under the subscriber's lock, in the transaction
    /// that changes it: two clicks at once change once, and of two readers moving to one address, one gets it.
    /// </summary>
    private async Task<ChangeConfirmState> ConfirmChangeLockedAsync(string token, string? ipAddress, string? userAgent, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var found = await FindByChangeTokenAsync(token, ct);
        if (found is null || !await db.LockAsync(found, ct)) return ChangeConfirmState.Unknown;
        var (state, subscriber) = await StateOfChangeAsync(token, found, ct);
        if (state != ChangeConfirmState.Ready || subscriber?.PendingEmail is null) return state;
        var now = clock.GetUtcNow().UtcDateTime;
        subscriber.Email = subscriber.PendingEmail;
        subscriber.EmailKey = EmailAddress.Key(subscriber.PendingEmail);
        subscriber.PendingEmail = null;
        subscriber.ChangeTokenExpiresAtUtc = now;
        // The access link went to the old address: it stops working with the change.
        subscriber.AccessTokenHash = null;
        subscriber.AccessTokenExpiresAtUtc = null;
        ConsentLedger.AddressChanged(db, subscriber, ipAddress, userAgent, now);
        await db.SaveChangesAsync(ct);
        // The reader confirmed the new address themselves: that lifts its suppression (C18).
        var hash = SuppressionHash.Email(keys, subscriber.EmailKey);
        await db.Suppressions.Where(s => s.Kind == SuppressionKind.Email && s.Hash == hash).ExecuteDeleteAsync(ct);
        // Mail already queued for the old address goes to the new one.
        var email = subscriber.Email;
        await db.OutboundMessages.Where(m => m.SubscriberId == subscriber.Id && (m.Kind == MessageKind.Campaign || m.Kind == MessageKind.Welcome)
                && (m.Status == MessageStatus.Queued || m.Status == MessageStatus.Leased))
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.ToAddress, email), ct);
        await transaction.CommitAsync(ct);
        logger.LogInformation("Subscriber {SubscriberId} changed the address", subscriber.Id);
        return ChangeConfirmState.Ready;
    }
}
