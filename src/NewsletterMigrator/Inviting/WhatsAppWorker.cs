using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// Sends the queued template messages through the Cloud API: lease a batch, send under the rate limit,
/// record each answer at once. A crash leaves leases: the same instance takes its own back when it starts
/// again, other instances wait until they expire. 429 and 5xx are retried with back-off; any other
/// refusal is recorded as the permanent error.
/// </summary>
public sealed class WhatsAppWorker(
    IServiceScopeFactory scopes,
    IHttpClientFactory http,
    WhatsAppSignal signal,
    InvitationLinks links,
    PhoneProtector phones,
    IOptions<WhatsAppOptions> options,
    InstanceIdentity instance,
    TimeProvider clock,
    ILogger<WhatsAppWorker> logger) : BackgroundService
{
    public const string HttpClientName = "WhatsApp";
    private const int BatchSize = 50;
    /// <summary>How long an invitation waits when its newsletter has closed meanwhile (C38) before it is looked at again.</summary>
    private static readonly TimeSpan HeldBackFor = TimeSpan.FromMinutes(5);
    private readonly string _owner = instance.NewLeaseOwner();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        using var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 1,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1 / options.Value.MessagesPerSecond),
            QueueLimit = int.MaxValue,
            AutoReplenishment = true,
        });
        try
        {
            await ReleaseEarlierRunsAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var handled = 0;
                try
                {
                    handled = await SendBatchAsync(limiter, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "WhatsApp batch failed; leases expire and the rows return to the queue");
                }
                if (handled == 0) await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    /// <summary>
    /// Before the first batch: the rows an earlier run of this instance held when it died go back to the
    /// queue now, not after <see cref="WhatsAppOptions.LeaseDuration"/>; other instances' leases expire as
    /// before. A row whose request was on its way when the process died may have reached Meta without the
    /// answer being recorded; nothing can tell, so it is sent again, exactly as after an expired lease.
    /// Rows recorded as Accepted are never leased, so an invitation Meta confirmed never goes twice.
    /// </summary>
    private Task ReleaseEarlierRunsAsync(CancellationToken ct) =>
        LeaseTakeback.RunAsync(instance, scopes, logger, "WhatsApp message(s)", (db, prefix, token) => db.WhatsAppMessages
            .Where(m => m.Status == WhatsAppStatus.Leased && m.LeaseOwner!.StartsWith(prefix) && m.LeaseOwner != _owner)
            .ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, WhatsAppStatus.Queued)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseExpiresAtUtc, (DateTime?)null), token), ct);

    private async Task<int> SendBatchAsync(RateLimiter limiter, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        var due = db.WhatsAppMessages.Where(m =>
            (m.Status == WhatsAppStatus.Queued && m.NextAttemptAtUtc <= now) || (m.Status == WhatsAppStatus.Leased && m.LeaseExpiresAtUtc < now));
        var ids = await due.OrderBy(m => m.Id).Select(m => m.Id).Take(BatchSize).ToListAsync(ct);
        if (ids.Count == 0) return 0;
        var expires = now + options.Value.LeaseDuration;
        await due.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, WhatsAppStatus.Leased)
            .SetProperty(m => m.LeaseOwner, _owner)
            .SetProperty(m => m.LeaseExpiresAtUtc, expires), ct);
        var rows = await db.WhatsAppMessages.AsNoTracking()
            .Where(m => ids.Contains(m.Id) && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased)
            .OrderBy(m => m.Id).ToListAsync(ct);
        foreach (var row in rows)
        {
            using var lease = await limiter.AcquireAsync(1, ct);
            await SendOneAsync(db, row, ct);
        }
        return rows.Count;
    }

    private async Task SendOneAsync(AppDbContext db, WhatsAppMessage row, CancellationToken ct)
    {
        var contact = await db.Contacts.AsNoTracking().SingleOrDefaultAsync(c => c.Id == row.ContactId, ct);
        var newsletter = contact is null ? null : await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == contact.NewsletterId, ct);
        if (newsletter is not null && !Newsletters.LegalReadiness.IsOpen(newsletter))
        {
            // C38 while live: the legal identity was emptied after the invitation was queued. Held back, not
            // cancelled, so the reader still gets the one invitation once it is complete again.
            await Mine(db, row).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, WhatsAppStatus.Queued).SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.NextAttemptAtUtc, clock.GetUtcNow().UtcDateTime + HeldBackFor), ct);
            return;
        }
        // Re-checked right before sending: a reader who signed up or objected meanwhile, or a migration that ended, gets nothing.
        if (contact?.PhoneEncrypted is null || newsletter is null || contact.SignedUpAtUtc is not null || contact.ObjectedAtUtc is not null
            || InvitationQueue.Gate(newsletter, clock.GetUtcNow().UtcDateTime) != InvitationGate.Open
            || !await db.Contacts.Where(c => c.Id == contact.Id).AnyAsync(InvitationQueue.NotSuppressed(db), ct))
        {
            await Mine(db, row).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, WhatsAppStatus.Cancelled).SetProperty(m => m.LeaseOwner, (string?)null), ct);
            return;
        }

        var number = phones.Decrypt(contact.PhoneEncrypted);
        var parameters = WhatsAppTemplate.Values(WhatsAppTemplate.Parameters(options.Value.TemplateParameters), InvitationSender.Of(newsletter), links.InvitationUrl(contact));
        var (status, wamid, error, retryAfter) = await PostAsync(number, parameters, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var attempts = row.Attempts + 1;
        if (wamid is not null)
        {
            await Mine(db, row).ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, WhatsAppStatus.Accepted).SetProperty(m => m.Wamid, wamid)
                .SetProperty(m => m.AcceptedAtUtc, now).SetProperty(m => m.Attempts, attempts)
                .SetProperty(m => m.LastError, (string?)null).SetProperty(m => m.LeaseOwner, (string?)null), ct);
            await db.Contacts.Where(c => c.Id == contact.Id && c.InvitedAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.InvitedAtUtc, now), ct);
            logger.LogInformation("WhatsApp template accepted for contact {ContactId} ({Number})", contact.Id, Redact.Phone(number));
            return;
        }

        var transient = status is null || status == HttpStatusCode.TooManyRequests || (int)status >= 500;
        if (transient && attempts < options.Value.MaxAttempts)
        {
            var delay = retryAfter ?? RetryDelay(attempts);
            await Mine(db, row).ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, WhatsAppStatus.Queued).SetProperty(m => m.NextAttemptAtUtc, now + delay)
                .SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, error)
                .SetProperty(m => m.LeaseOwner, (string?)null), ct);
            logger.LogWarning("WhatsApp message {RowId} deferred for {Delay}: {Error}", row.Id, delay, error);
            return;
        }
        await Mine(db, row).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, WhatsAppStatus.Failed).SetProperty(m => m.FailedAtUtc, now)
            .SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, error)
            .SetProperty(m => m.LeaseOwner, (string?)null), ct);
        logger.LogWarning("WhatsApp message {RowId} failed: {Error}", row.Id, error);
    }

    /// <summary>POST {BaseUrl}/{PhoneNumberId}/messages with the approved template and its body parameters (the personal link among them).</summary>
    private async Task<(HttpStatusCode? Status, string? Wamid, string? Error, TimeSpan? RetryAfter)> PostAsync(string e164, string[] parameters, CancellationToken ct)
    {
        var o = options.Value;
        var payload = new
        {
            messaging_product = "whatsapp",
            recipient_type = "individual",
            to = PhoneNormalizer.WaMeDigits(e164),
            type = "template",
            template = new
            {
                name = o.TemplateName,
                language = new { code = o.TemplateLanguage },
                components = new object[] { new { type = "body", parameters = parameters.Select(p => new { type = "text", text = p }).ToArray() } },
            },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{o.BaseUrl.TrimEnd('/')}/{Uri.EscapeDataString(o.PhoneNumberId!)}/messages")
        {
            Content = JsonContent.Create(payload),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", o.AccessToken);
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode)
            {
                var wamid = TryRead(body, d => d.GetProperty("messages")[0].GetProperty("id").GetString());
                return wamid is null
                    ? (response.StatusCode, null, "answer without a message id", null)
                    : (response.StatusCode, wamid, null, null);
            }
            var error = TryRead(body, d =>
            {
                var e = d.GetProperty("error");
                return $"error {(e.TryGetProperty("code", out var code) ? code.ToString() : "?")}: {(e.TryGetProperty("message", out var m) ? m.GetString() : "")}";
            }) ?? "no error details";
            var retryAfter = response.Headers.RetryAfter?.Delta;
            return (response.StatusCode, null, Redact.Text($"HTTP {(int)response.StatusCode}, {error}"), retryAfter);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (null, null, Redact.Text(ex.Message), null);
        }
    }

    private static string? TryRead(string json, Func<JsonElement, string?> read)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return read(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private TimeSpan RetryDelay(int attempt)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 10));
        return TimeSpan.FromTicks(Math.Min((long)(options.Value.FirstRetryDelay.Ticks * factor), TimeSpan.FromHours(1).Ticks));
    }

    // Results are written only by the lease holder.
    private IQueryable<WhatsAppMessage> Mine(AppDbContext db, WhatsAppMessage row) =>
        db.WhatsAppMessages.Where(m => m.Id == row.Id && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased);
}
