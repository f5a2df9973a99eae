using System.Net;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

/// <summary>What the worker does with a refusal, synchronous (the Graph API's answer) or asynchronous (a "failed" status webhook).</summary>
public enum WhatsAppErrorAction
{
    /// <summary>Too fast (throughput, pair rate, call limits): the worker slows down and the message goes again shortly.</summary>
    SlowDown,
    /// <summary>Temporary trouble at Meta: retried with back-off, at most <c>WhatsApp:MaxAttempts</c> times.</summary>
    Retry,
    /// <summary>Meta holds marketing back from this reader today: again after a day, at most <c>WhatsApp:DayDeferrals</c> times.</summary>
    RetryNextDay,
    /// <summary>The number cannot receive WhatsApp messages: the contact is recorded as "not on WhatsApp".</summary>
    NotOnWhatsApp,
    /// <summary>The reader stopped marketing messages from the business: an objection (C41), the number is suppressed.</summary>
    Objection,
    /// <summary>Every further message would fail the same way (template, account, number, spam limit): the whole queue pauses.</summary>
    PauseQueue,
    /// <summary>Wrong for this one message only: recorded as failed.</summary>
    Fail,
    /// <summary>A code not in the table: recorded, and retried at most <c>WhatsApp:UnknownErrorAttempts</c> times.</summary>
    Unknown,
}

public sealed record WhatsAppErrorCode(int Code, string Meaning, WhatsAppErrorAction Action);

/// <summary>
/// Every code of Meta's documented error list ("WhatsApp Cloud API error codes") that an invitation can meet, and
/// what it means for the queue. The README prints the same table; a test checks that both agree.
/// </summary>
public static class WhatsAppErrors
{
    public static readonly IReadOnlyList<WhatsAppErrorCode> Table =
    [
        new(4, "too many API calls by the app", WhatsAppErrorAction.SlowDown),
        new(80007, "rate limit of the WhatsApp Business Account", WhatsAppErrorAction.SlowDown),
        new(130429, "throughput limit of the business number", WhatsAppErrorAction.SlowDown),
        new(131056, "too many messages to the same person (pair rate)", WhatsAppErrorAction.SlowDown),

        new(1, "unknown API error", WhatsAppErrorAction.Retry),
        new(2, "API service temporarily unavailable", WhatsAppErrorAction.Retry),
        new(131000, "something went wrong at Meta", WhatsAppErrorAction.Retry),
        new(131016, "service unavailable", WhatsAppErrorAction.Retry),
        new(131057, "business account in maintenance mode", WhatsAppErrorAction.Retry),
        new(133004, "server temporarily unavailable", WhatsAppErrorAction.Retry),

        new(131049, "per-user marketing limit (held back for a healthy ecosystem)", WhatsAppErrorAction.RetryNextDay),
        new(130472, "the reader's number is part of a Meta experiment", WhatsAppErrorAction.RetryNextDay),

        new(131026, "undeliverable: not a WhatsApp user, an old app, or terms not accepted", WhatsAppErrorAction.NotOnWhatsApp),

        new(131050, "the reader stopped marketing messages from this business", WhatsAppErrorAction.Objection),

        new(0, "authentication failed", WhatsAppErrorAction.PauseQueue),
        new(3, "the app lacks the capability", WhatsAppErrorAction.PauseQueue),
        new(10, "permission denied", WhatsAppErrorAction.PauseQueue),
        new(190, "access token expired or invalid", WhatsAppErrorAction.PauseQueue),
        new(200, "permission missing", WhatsAppErrorAction.PauseQueue),
        new(33, "the business number's id is not valid", WhatsAppErrorAction.PauseQueue),
        new(368, "temporarily blocked for policy violations", WhatsAppErrorAction.PauseQueue),
        new(131031, "business account locked", WhatsAppErrorAction.PauseQueue),
        new(131037, "display name not approved", WhatsAppErrorAction.PauseQueue),
        new(131042, "payment problem on the business account", WhatsAppErrorAction.PauseQueue),
        new(131045, "number registered without a valid certificate", WhatsAppErrorAction.PauseQueue),
        new(131048, "spam rate limit: too many earlier messages blocked or reported", WhatsAppErrorAction.PauseQueue),
        new(131008, "a required parameter is missing", WhatsAppErrorAction.PauseQueue),
        new(131051, "message type not supported", WhatsAppErrorAction.PauseQueue),
        new(132000, "template parameter count does not match", WhatsAppErrorAction.PauseQueue),
        new(132001, "template does not exist in this language", WhatsAppErrorAction.PauseQueue),
        new(132005, "template text too long with its parameters", WhatsAppErrorAction.PauseQueue),
        new(132007, "template breaks the format character policy", WhatsAppErrorAction.PauseQueue),
        new(132012, "template parameter format does not match", WhatsAppErrorAction.PauseQueue),
        new(132015, "template paused for low quality", WhatsAppErrorAction.PauseQueue),
        new(132016, "template disabled for low quality", WhatsAppErrorAction.PauseQueue),
        new(133006, "business number needs verification again", WhatsAppErrorAction.PauseQueue),
        new(133010, "business number not registered", WhatsAppErrorAction.PauseQueue),

        new(100, "invalid parameter (for example the recipient's number)", WhatsAppErrorAction.Fail),
        new(131009, "parameter value not valid", WhatsAppErrorAction.Fail),
        new(131021, "recipient is the sending number", WhatsAppErrorAction.Fail),
        new(131030, "recipient not on the test number's allowed list", WhatsAppErrorAction.Fail),
        new(131047, "more than 24 hours since the reader's last reply", WhatsAppErrorAction.Fail),
        new(130497, "the business may not message readers in this country", WhatsAppErrorAction.Fail),
    ];

    private static readonly Dictionary<int, WhatsAppErrorCode> ByCode = Table.ToDictionary(e => e.Code);

    public static WhatsAppErrorCode? Find(int? code) => code is { } c && ByCode.TryGetValue(c, out var entry) ? entry : null;

    /// <summary>
    /// The action for Meta's code; without one (no body, no JSON), the HTTP status decides: none at all (network) and 5xx
    /// retry, 429 slows down, 401/403 pause (the token), anything else is unknown.
    /// </summary>
    public static WhatsAppErrorAction Classify(int? code, HttpStatusCode? status)
    {
        if (Find(code) is { } entry) return entry.Action;
        if (code is not null) return WhatsAppErrorAction.Unknown;
        return status switch
        {
            null => WhatsAppErrorAction.Retry,
            HttpStatusCode.TooManyRequests => WhatsAppErrorAction.SlowDown,
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => WhatsAppErrorAction.PauseQueue,
            _ when (int)status >= 500 => WhatsAppErrorAction.Retry,
            _ => WhatsAppErrorAction.Unknown,
        };
    }

    /// <summary>
    /// Whether a PauseQueue code says Meta paused or disabled the template for its quality: Meta's approval (the template
    /// status webhook) lifts that pause by itself.
    /// </summary>
    public static bool IsTemplateCode(int? code) => code is 132015 or 132016;

    /// <summary>
    /// The kind of pause a PauseQueue code causes. The other template codes (parameter count, a template or language Meta
    /// does not know, text or format) are set-up errors on our side: no webhook says they are fixed, so an admin resumes.
    /// </summary>
    public static WhatsAppPause PauseKindFor(int? code) =>
        IsTemplateCode(code) ? WhatsAppPause.Template
        : code is >= 132000 and < 133000 ? WhatsAppPause.Setup
        : WhatsAppPause.Account;
}
