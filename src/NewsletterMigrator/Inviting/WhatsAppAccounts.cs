using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Inviting;

/// <summary>The messaging limit in force and where it comes from.</summary>
public enum LimitSource { Graph, Webhook, Setting, NewPortfolio }

/// <summary>The limit in force (null: unlimited), where it came from and when.</summary>
public sealed record EffectiveLimit(int? Value, LimitSource Source, DateTime? AtUtc);

/// <summary>What an admin's resume did: lifted the pause, found none, or was refused while Meta rates the number RED.</summary>
public enum ResumeOutcome { Resumed, NotPaused, StillRed }

/// <summary>
/// The shared state of the WhatsApp business portfolio (<see cref="WhatsAppAccount"/>): Meta's messaging limit and
/// quality rating, from the Graph API and the webhooks, and the queue's pause with its reason. Every instance reads and
/// writes the one row, so a webhook that reaches one instance stops the workers of all.
/// </summary>
public sealed class WhatsAppAccounts(AppDbContext db, IOptions<WhatsAppOptions> options, IHttpClientFactory http, Outbox outbox, TimeProvider clock,
    ILogger<WhatsAppAccounts> logger)
{
    /// <summary>Meta's worst quality rating: no message goes out while it lasts.</summary>
    public const string Red = "RED";

    /// <summary>Meta's limit for a business portfolio that has not scaled yet.</summary>
    public const int NewPortfolioLimit = 250;

    /// <summary>The tiers Meta scales through; the forecast shows what the next one would change.</summary>
    public static readonly int[] Tiers = [250, 2_000, 10_000, 100_000];

    public Task<WhatsAppAccount> GetAsync(CancellationToken ct = default) =>
        db.WhatsAppAccounts.AsNoTracking().SingleAsync(a => a.Id == WhatsAppAccount.SingleId, ct);

    public EffectiveLimit Limit(WhatsAppAccount account) =>
        account.MessagingLimit is { } known
            ? new EffectiveLimit(known < 0 ? null : known, account.MessagingLimitSource == "webhook" ? LimitSource.Webhook : LimitSource.Graph, account.MessagingLimitAtUtc)
            : options.Value.MessagingLimit is { } set ? new EffectiveLimit(set, LimitSource.Setting, null)
            : new EffectiveLimit(NewPortfolioLimit, LimitSource.NewPortfolio, null);

    public static bool HalfPace(WhatsAppAccount account) => account.QualityRating == "YELLOW";

    public WhatsAppPacing Pacing(WhatsAppAccount account) => PacingWith(account, Limit(account).Value);

    /// <summary>The same rules with another limit (null: unlimited), for "what a higher limit would change".</summary>
    public WhatsAppPacing PacingWith(WhatsAppAccount account, int? limit) =>
        new(limit, HalfPace(account), options.Value.Hours(), options.Value.BatchInterval, options.Value.MessagesPerSecond);

    /// <summary>
    /// Pauses the queue for every instance; the first reason stays until someone resumes. False when it was paused
    /// already: then this reason is neither stored nor audited, and the caller says so.
    /// </summary>
    public async Task<bool> PauseAsync(WhatsAppPause kind, string detail, string actor, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        detail = Cut(detail);
        var paused = await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId && a.PausedAtUtc == null)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.PausedAtUtc, now).SetProperty(a => a.PauseKind, kind).SetProperty(a => a.PauseDetail, detail), ct);
        if (paused == 0) return false;
        db.Audit(actor, "whatsapp-pause", $"{kind}: {detail}", now);
        var alerted = kind == WhatsAppPause.Manual ? 0 : await QueueAlertsAsync(ct);
        await db.SaveChangesAsync(ct);
        if (alerted > 0) outbox.Wake();
        logger.LogError("WhatsApp queue paused ({Kind}): {Detail}; {Count} admin(s) alerted by mail", kind, detail, alerted);
        return true;
    }

    /// <summary>
    /// A pause the app made by itself may come at night or while nobody looks at the dashboard: every active admin gets a mail
    /// (through the outbox, in the name of the newsletter whose invitations wait first). A manual pause needs none.
    /// </summary>
    private async Task<int> QueueAlertsAsync(CancellationToken ct)
    {
        var newsletterId = await db.WhatsAppMessages.Where(m => m.Status == WhatsAppStatus.Queued || m.Status == WhatsAppStatus.Leased)
            .OrderBy(m => m.Id).Select(m => (int?)m.NewsletterId).FirstOrDefaultAsync(ct)
            ?? await db.Newsletters.OrderBy(n => n.Id).Select(n => (int?)n.Id).FirstOrDefaultAsync(ct);
        if (newsletterId is not { } id) return 0;
        // Active admins only (ActiveStaff): not a colleague who has left, nor an invitation that may carry a typo.
        var admins = await db.ActiveInRole(Staff.Roles.Admin).Where(u => u.Email != null).Select(u => u.Email!).Distinct().ToListAsync(ct);
        foreach (var address in admins) outbox.Queue(MessageKind.WhatsAppPaused, id, address, "de");
        return admins.Count;
    }

    /// <summary>
    /// An admin lifts the pause, whatever its reason, except while Meta rates the number RED: every message then risks the
    /// number, and the queue goes on by itself once the rating leaves RED. Objections count afresh from now, or the same
    /// rate would pause the queue again at once: the admin has looked at them.
    /// </summary>
    public async Task<ResumeOutcome> ResumeAsync(string actor, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var resumed = await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId && a.PausedAtUtc != null && a.QualityRating != Red)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.PausedAtUtc, (DateTime?)null)
                .SetProperty(a => a.PauseKind, (WhatsAppPause?)null).SetProperty(a => a.PauseDetail, (string?)null)
                .SetProperty(a => a.ObjectionsCountFromUtc, now), ct);
        if (resumed == 0)
            return await GetAsync(ct) is { PausedAtUtc: not null, QualityRating: Red } ? ResumeOutcome.StillRed : ResumeOutcome.NotPaused;
        db.Audit(actor, "whatsapp-resume", "queue resumed", now);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("WhatsApp queue resumed by {Actor}", actor);
        return ResumeOutcome.Resumed;
    }

    /// <summary>
    /// Meta lifted the cause of a pause of this <paramref name="kind"/> (the template approved again, the rating no longer
    /// RED). The queue goes on only if nothing else holds it: on a RED number the pause becomes a quality pause, and
    /// objections that came in while it stood (they are never forgotten: only an admin's resume counts afresh) make it an
    /// objection pause. True when the queue runs again.
    /// </summary>
    private async Task<bool> LiftAsync(WhatsAppPause kind, string actor, string cause, CancellationToken ct)
    {
        var account = await GetAsync(ct);
        if (account.PausedAtUtc is null || account.PauseKind != kind) return false;
        var now = clock.GetUtcNow().UtcDateTime;
        var rows = db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId && a.PausedAtUtc != null && a.PauseKind == kind);
        if (account.QualityRating == Red)
        {
            if (kind != WhatsAppPause.Quality) await ChangeReasonAsync(rows.Where(a => a.QualityRating == Red), WhatsAppPause.Quality, $"quality rating RED; {cause}", now, ct);
            return false;
        }
        if (await ObjectionsOverLimitAsync(account, now, ct) is { } objections)
        {
            await ChangeReasonAsync(rows, WhatsAppPause.Objections, $"{objections}; {cause}", now, ct);
            return false;
        }
        // The rating is checked again in the write itself: a RED webhook may come in between.
        var lifted = await rows.Where(a => a.QualityRating != Red).ExecuteUpdateAsync(u => u.SetProperty(a => a.PausedAtUtc, (DateTime?)null)
            .SetProperty(a => a.PauseKind, (WhatsAppPause?)null).SetProperty(a => a.PauseDetail, (string?)null), ct);
        if (lifted == 0) return false;
        db.Audit(actor, "whatsapp-resume", $"queue resumed: {Cut(cause)}", now);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("WhatsApp queue resumed ({Kind} lifted): {Cause}", kind, cause);
        return true;
    }

    /// <summary>The queue stays paused, for the reason that holds it now; the time it has stood since stays.</summary>
    private async Task<bool> ChangeReasonAsync(IQueryable<WhatsAppAccount> rows, WhatsAppPause kind, string detail, DateTime now, CancellationToken ct)
    {
        detail = Cut(detail);
        if (await rows.ExecuteUpdateAsync(u => u.SetProperty(a => a.PauseKind, kind).SetProperty(a => a.PauseDetail, detail), ct) == 0) return false;
        db.Audit("whatsapp", "whatsapp-pause", $"{kind}: {detail}", now);
        await db.SaveChangesAsync(ct);
        logger.LogError("WhatsApp queue stays paused ({Kind}): {Detail}", kind, detail);
        return true;
    }

    private static string Cut(string detail) => Redact.Text(detail.Length > 500 ? detail[..500] : detail);

    /// <summary>
    /// A throughput or pair-rate answer (130429, 131056), to a send or in a "failed" webhook: no instance starts a batch
    /// before <paramref name="untilUtc"/>. Only ever moves the quiet time later, so a short answer does not cut a longer one.
    /// </summary>
    public Task QuietUntilAsync(DateTime untilUtc, CancellationToken ct = default) =>
        db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId && (a.QuietUntilUtc == null || a.QuietUntilUtc < untilUtc))
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.QuietUntilUtc, untilUtc), ct);

    /// <summary>A new messaging limit from Meta (-1: unlimited).</summary>
    public async Task SetLimitAsync(int limit, string source, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId).ExecuteUpdateAsync(u => u
            .SetProperty(a => a.MessagingLimit, limit).SetProperty(a => a.MessagingLimitSource, source).SetProperty(a => a.MessagingLimitAtUtc, now), ct);
        logger.LogInformation("WhatsApp messaging limit from {Source}: {Limit}", source, limit < 0 ? "unlimited" : limit.ToString());
    }

    /// <summary>
    /// The number's quality rating: RED pauses the queue (every further message risks the number) and holds any pause
    /// until it leaves RED; GREEN or YELLOW lifts a quality pause by itself; YELLOW halves the pace while it lasts (read by
    /// <see cref="HalfPace"/>). The rating is stored whatever the queue's state, so a flag that comes in while the queue is
    /// paused for another reason still holds it.
    /// </summary>
    public async Task SetQualityAsync(string rating, string source, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        rating = rating.ToUpperInvariant();
        var before = (await GetAsync(ct)).QualityRating;
        await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.QualityRating, rating).SetProperty(a => a.QualityAtUtc, now), ct);
        if (rating != before) logger.LogWarning("WhatsApp quality rating from {Source}: {Rating} (was {Before})", source, rating, before ?? "unknown");
        if (rating == Red)
            await PauseAsync(WhatsAppPause.Quality, $"quality rating RED ({source})", "whatsapp", ct);
        else if (rating is "GREEN" or "YELLOW")
            await LiftAsync(WhatsAppPause.Quality, "whatsapp", $"quality rating {rating} ({source})", ct);
    }

    /// <summary>
    /// The approved template's state from the message_template_status_update webhook: anything but approved pauses the
    /// queue; approved (again) lifts a pause the template caused.
    /// </summary>
    public async Task TemplateStatusAsync(string name, string language, string status, string? reason, CancellationToken ct = default)
    {
        var o = options.Value;
        // Meta names a template by name and language code ("de", "en_US"); another language of the same name is another template.
        if (!string.Equals(name, o.TemplateName, StringComparison.Ordinal) || !string.Equals(language, o.TemplateLanguage, StringComparison.OrdinalIgnoreCase)) return;
        switch (status.ToUpperInvariant())
        {
            case "APPROVED" or "REINSTATED" or "UNARCHIVED" or "UNLOCKED":
                if (await LiftAsync(WhatsAppPause.Template, "whatsapp-webhook", $"template {name} ({language}) {status}", ct))
                    logger.LogInformation("WhatsApp template {Template} approved again ({Status}): queue resumed", name, status);
                break;
            case "PAUSED" or "DISABLED" or "REJECTED" or "PENDING_DELETION" or "DELETED" or "ARCHIVED" or "LOCKED" or "LIMIT_EXCEEDED":
                await PauseAsync(WhatsAppPause.Template, $"template {name} ({language}) {status}" + (string.IsNullOrEmpty(reason) || reason == "NONE" ? "" : $": {reason}"),
                    "whatsapp-webhook", ct);
                break;
            default:
                logger.LogInformation("WhatsApp template {Template} status {Status}", name, status);
                break;
        }
    }

    /// <summary>
    /// Pauses the queue when objections after an invitation (STOP replies and marketing stops, C41; Meta reports no plain
    /// blocks) cross the configured share of the invitations accepted in the last 24 hours (counted from an admin's last
    /// resume). While the queue is paused the objections wait: an automatic resume looks at them first.
    /// </summary>
    public async Task CheckObjectionRateAsync(CancellationToken ct = default)
    {
        var account = await GetAsync(ct);
        if (account.PausedAtUtc is not null) return;
        if (await ObjectionsOverLimitAsync(account, clock.GetUtcNow().UtcDateTime, ct) is { } detail)
            await PauseAsync(WhatsAppPause.Objections, detail, "whatsapp", ct);
    }

    /// <summary>What the objections come to when they reach the limit (the pause's detail), else null.</summary>
    private async Task<string?> ObjectionsOverLimitAsync(WhatsAppAccount account, DateTime now, CancellationToken ct)
    {
        var o = options.Value;
        var since = now - TimeSpan.FromHours(24);
        if (account.ObjectionsCountFromUtc is { } from && from > since) since = from;
        var invited = db.WhatsAppMessages.Where(m => m.AcceptedAtUtc > since);
        var sent = await invited.CountAsync(ct);
        if (sent < o.ObjectionRateMinimum) return null;
        var objected = await invited.CountAsync(m => db.Contacts.Any(c => c.Id == m.ContactId && c.ObjectedAtUtc >= m.AcceptedAtUtc), ct);
        var rate = objected / (double)sent;
        return rate < o.PauseAtObjectionRate ? null
            : $"{objected} of {sent} invitations since {Berlin.Format(since)} answered with an objection ({(rate * 100).ToString("0.0", CultureInfo.InvariantCulture)} %, limit {(o.PauseAtObjectionRate * 100).ToString("0.0", CultureInfo.InvariantCulture)} %)";
    }

    /// <summary>Meta says the rating changed without saying to what: the next worker round asks the Graph API.</summary>
    public Task RequestGraphRefreshAsync(CancellationToken ct = default) =>
        db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId).ExecuteUpdateAsync(u => u.SetProperty(a => a.GraphCheckedAtUtc, (DateTime?)null), ct);

    /// <summary>
    /// Reads the portfolio's messaging limit and the number's quality rating from the Graph API
    /// (GET /{phone-number-id}?fields=whatsapp_business_manager_messaging_limit,quality_rating). Where it does not answer,
    /// the last known values stay and the error is shown on the WhatsApp page.
    /// </summary>
    public async Task RefreshFromGraphAsync(CancellationToken ct = default)
    {
        var o = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        string? error = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get,
                $"{o.BaseUrl.TrimEnd('/')}/{Uri.EscapeDataString(o.PhoneNumberId!)}?fields=whatsapp_business_manager_messaging_limit,quality_rating");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.AccessToken);
            using var response = await http.CreateClient(WhatsAppWorker.HttpClientName).SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                error = $"HTTP {(int)response.StatusCode}";
            }
            else
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.TryGetProperty("whatsapp_business_manager_messaging_limit", out var limitElement) && ParseLimit(limitElement) is { } limit)
                    await SetLimitAsync(limit, "graph", ct);
                else error = "no messaging limit in the answer";
                if (root.TryGetProperty("quality_rating", out var quality) && quality.ValueKind == JsonValueKind.String && quality.GetString() is { Length: > 0 } rating)
                    await SetQualityAsync(rating, "Graph API", ct);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || ex is TaskCanceledException && !ct.IsCancellationRequested)
        {
            error = ex is JsonException ? "answer is not JSON" : Redact.Text(ex.Message);
        }
        await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.GraphCheckedAtUtc, now).SetProperty(a => a.GraphError, error), ct);
        if (error is not null) logger.LogWarning("WhatsApp messaging limit not read from the Graph API: {Error}", error);
    }

    /// <summary>
    /// Meta's limit in any of its forms: a tier name ("TIER_2K", "TIER_UNLIMITED"), a number (2000, -1 for unlimited), or an
    /// object carrying one of them; null for TIER_NOT_SET and anything unknown.
    /// </summary>
    public static int? ParseLimit(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number when element.TryGetInt32(out var n) && (n > 0 || n == -1) => n,
        JsonValueKind.String => ParseTier(element.GetString()),
        JsonValueKind.Object => element.EnumerateObject().Select(p => ParseLimit(p.Value)).FirstOrDefault(v => v is not null),
        _ => null,
    };

    public static int? ParseTier(string? tier)
    {
        if (tier is null) return null;
        if (int.TryParse(tier, out var number)) return number > 0 || number == -1 ? number : null;
        if (!tier.StartsWith("TIER_", StringComparison.OrdinalIgnoreCase)) return null;
        var value = tier[5..].ToUpperInvariant();
        if (value == "UNLIMITED") return -1;
        var factor = value.EndsWith('K') ? 1000 : 1;
        return int.TryParse(value.TrimEnd('K'), out var n) && n > 0 ? n * factor : null;
    }
}
