using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>
/// The one writer of the consent ledger (C7, ARCHITECTURE "one owner per record kind"): one method per
/// <see cref="ConsentEventKind"/>, each taking exactly what that kind of proof holds, so what an event records is
/// decided here and nowhere else (which fields, the user agent's length, the page name, the template version).
/// Each adds its row to the caller's context and does not save: the event commits in the caller's transaction with the
/// change it proves, or not at all. The rows are append-only (<see cref="AppDbContext"/> refuses updates and deletes).
/// </summary>
public static class ConsentLedger
{
    /// <summary>What a user agent is cut to: a header of several kilobytes proves nothing more.</summary>
    public const int UserAgentLength = 512;

    /// <summary>A sign-up: where and how, and the consent text, privacy notice and age confirmation shown (C7, C43).</summary>
    public static void SignedUp(AppDbContext db, Subscriber subscriber, SignUpRequest request, DateTime at) => Add(db, subscriber, ConsentEventKind.SignUp, at, e =>
    {
        e.IpAddress = request.IpAddress;
        e.UserAgent = Cut(request.UserAgent);
        e.Page = request.Page;
        e.InvitationContactId = request.InvitationContactId;
        e.ConsentTextId = request.ConsentText.Id;
        e.ConsentTextSha256 = request.ConsentText.Sha256;
        e.AgeConfirmed = request.AgeConfirmed;
        e.PrivacyNoticeVersion = request.ConsentText.PrivacyNoticeVersion;
    });

    /// <summary>A DOI mail queued: its Message-ID, template version and the hash of its wording without the link (C7, C43).</summary>
    public static void DoiQueued(AppDbContext db, Subscriber subscriber, string messageId, string doiTextSha256, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.DoiQueued, at, e =>
        {
            e.MessageId = messageId;
            e.TemplateVersion = SignUpService.DoiTemplateVersion;
            e.DoiTextSha256 = doiTextSha256;
        });

    /// <summary>A DOI mail accepted by the SMTP server, with the hash of the text as it was sent (C7, C43).</summary>
    public static void DoiSent(AppDbContext db, Subscriber subscriber, string messageId, string? doiTextSha256, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.DoiSent, at, e =>
        {
            e.MessageId = messageId;
            e.TemplateVersion = SignUpService.DoiTemplateVersion;
            e.DoiTextSha256 = doiTextSha256;
        });

    /// <summary>The confirmation by the button on the confirm page (C7, C9).</summary>
    public static void Confirmed(AppDbContext db, Subscriber subscriber, string? ipAddress, string? userAgent, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.Confirmed, at, e =>
        {
            e.IpAddress = ipAddress;
            e.UserAgent = Cut(userAgent);
            e.Page = "confirm";
        });

    /// <param name="channel">How the withdrawal reached us (Subscribers.WithdrawalChannel).</param>
    /// <param name="campaignId">The campaign the withdrawal is counted against in its report, where known (issue 16.3).</param>
    public static void Withdrawn(AppDbContext db, Subscriber subscriber, string channel, int? campaignId, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.Withdrawn, at, e =>
        {
            e.Channel = channel;
            e.CampaignId = campaignId;
        });

    /// <summary>An erasure (C18): the earlier events stay, pseudonymised through ErasedSubscriber.</summary>
    public static void Erased(AppDbContext db, Subscriber subscriber, string channel, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.Erased, at, e => e.Channel = channel);

    /// <summary>A DOI mail to a requested new address queued from the preference page (C33); counts toward the daily cap (C42).</summary>
    public static void AddressChangeRequested(AppDbContext db, Subscriber subscriber, string messageId, string templateVersion,
        string? ipAddress, string? userAgent, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.AddressChangeRequested, at, e =>
        {
            e.IpAddress = ipAddress;
            e.UserAgent = Cut(userAgent);
            e.Page = "manage-access";
            e.MessageId = messageId;
            e.TemplateVersion = templateVersion;
        });

    /// <summary>The new address confirmed by the button on the page its link opens (C9).</summary>
    public static void AddressChanged(AppDbContext db, Subscriber subscriber, string? ipAddress, string? userAgent, DateTime at) =>
        Add(db, subscriber, ConsentEventKind.AddressChanged, at, e =>
        {
            e.IpAddress = ipAddress;
            e.UserAgent = Cut(userAgent);
            e.Page = "address-change";
        });

    private static void Add(AppDbContext db, Subscriber subscriber, ConsentEventKind kind, DateTime at, Action<ConsentEvent> details)
    {
        var entry = new ConsentEvent { SubscriberId = subscriber.Id, NewsletterId = subscriber.NewsletterId, Kind = kind, OccurredAtUtc = at };
        details(entry);
        db.ConsentEvents.Add(entry);
    }

    private static string? Cut(string? userAgent) => userAgent is { Length: > UserAgentLength } ? userAgent[..UserAgentLength] : userAgent;
}
