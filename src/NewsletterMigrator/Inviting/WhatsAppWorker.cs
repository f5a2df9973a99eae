using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// Sends the queued template messages through the Cloud API within Meta's limits. Each round it reads the portfolio's
/// state (<see cref="WhatsAppAccounts"/>: limit, quality, pause), reserves a batch against the moving 24-hour budget
/// and the day's pacing (<see cref="WhatsAppPacing"/>) under the account row's lock, sends it at the configured rate
/// and records each answer at once; refusals go through <see cref="WhatsAppRefusals"/>. A crash leaves leases: the
/// same instance takes its own back when it starts again, other instances wait until they expire.
/// </summary>
public sealed class WhatsAppWorker(
    IServiceScopeFactory scopes,
    IHttpClientFactory http,
    WhatsAppSignal signal,
    InvitationLinks links,
    PhoneProtector phones,
    IOptions<WhatsAppOptions> options,
    InstanceIdentity instance,
    IBulkSql bulk,
    TimeProvider clock,
    ILogger<WhatsAppWorker> logger) : BackgroundService
{
    public const string HttpClientName = "WhatsApp";
    private const int BatchSize = 50;
    private static readonly TimeSpan LongestSlowDown = TimeSpan.FromMinutes(15);
    /// <summary>How long an invitation waits when its newsletter has closed meanwhile (C38) before it is looked at again.</summary>
    private static readonly TimeSpan HeldBackFor = TimeSpan.FromMinutes(5);
    private readonly string _owner = instance.NewLeaseOwner();
    // This instance's answer to throughput refusals: the gap between two sends stretched by _paceFactor, and the quiet time
    // it asks of every instance (WhatsAppAccount.QuietUntilUtc) doubled while they go on, until a quarter of an hour passes
    // without one.
    private DateTime _lastSlowDown;
    private TimeSpan _slowDownDelay;
    private double _paceFactor = 1;
    private int _failuresInARow;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        _slowDownDelay = options.Value.SlowDownDelay;
        var loop = new LeaseQueueLoop("WhatsApp", signal, options.Value.PollInterval, logger);
        await loop.RunAsync(ReleaseEarlierRunsAsync, RunRoundAsync, stoppingToken);
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

    /// <summary>
    /// One round: refresh what Meta says when it is due, then reserve and send one batch; returns how many rows it handled.
    /// An idle, paused, quiet or waiting round only reads.
    /// </summary>
    private async Task<int> RunRoundAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var accounts = scope.ServiceProvider.GetRequiredService<WhatsAppAccounts>();
        var now = clock.GetUtcNow().UtcDateTime;
        var account = await accounts.GetAsync(ct);
        if (GraphRefreshDue(account, now) && await ClaimGraphRefreshAsync(db, now, ct))
        {
            await accounts.RefreshFromGraphAsync(ct);
            account = await accounts.GetAsync(ct);
        }
        if (account.QualityRating == WhatsAppAccounts.Red)
        {
            // However it came about (a resume while Meta still rates the number RED, a rating read without a pause):
            // every further message risks the number.
            if (account.PausedAtUtc is null) await accounts.PauseAsync(WhatsAppPause.Quality, "quality rating RED", "whatsapp", ct);
            return 0;
        }
        // A throughput answer to any instance quiets all of them: Meta's limit is the business number's, not this process's.
        if (account.QuietUntilUtc > now) return 0;
        if (now - _lastSlowDown > LongestSlowDown)
        {
            _paceFactor = 1;
            _slowDownDelay = options.Value.SlowDownDelay;
        }
        await accounts.CheckObjectionRateAsync(ct);
        var rows = await ReserveAsync(db, accounts, ct);
        if (rows.Count == 0) return 0;
        var refusals = scope.ServiceProvider.GetRequiredService<WhatsAppRefusals>();
        var interval = TimeSpan.FromSeconds(1 / options.Value.MessagesPerSecond);
        var sentAt = DateTime.MinValue;
        for (var i = 0; i < rows.Count; i++)
        {
            // A pause from a webhook, another instance or an admin stops the batch before the next message, not after it.
            if (await db.WhatsAppAccounts.AnyAsync(a => a.Id == WhatsAppAccount.SingleId && a.PausedAtUtc != null, ct))
            {
                await ReleaseAsync(db, rows.Skip(i), ct);
                break;
            }
            var wait = sentAt + interval * _paceFactor - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            if (!await RenewLeasesAsync(db, rows.Skip(i), ct))
            {
                logger.LogWarning("WhatsApp lease of message {RowId} lost (expired and taken by another instance); batch stopped", rows[i].Id);
                await ReleaseAsync(db, rows.Skip(i + 1), ct);
                break;
            }
            sentAt = DateTime.UtcNow;
            var action = await SendOneAsync(db, refusals, rows[i], ct);
            if (action is WhatsAppErrorAction.SlowDown or WhatsAppErrorAction.PauseQueue || _failuresInARow >= options.Value.PauseAfterFailuresInARow)
            {
                if (action == WhatsAppErrorAction.SlowDown) await SlowDownAsync(accounts, ct);
                else if (action != WhatsAppErrorAction.PauseQueue)
                {
                    await accounts.PauseAsync(WhatsAppPause.Failures, $"{_failuresInARow} refusals in a row, the last: {rows[i].LastError ?? "?"}", "whatsapp", ct);
                    _failuresInARow = 0;
                }
                await ReleaseAsync(db, rows.Skip(i + 1), ct);
                break;
            }
        }
        return rows.Count;
    }

    /// <summary>
    /// Right before each request: the leases of this row and the rest of the batch last another <see cref="WhatsAppOptions.LeaseDuration"/>
    /// from now. A batch may take longer than one lease (50 sends stretched by the pace factor, a slow answer); without this,
    /// another instance would take the expired rows and both would send them. False when the current row is no longer ours.
    /// </summary>
    private async Task<bool> RenewLeasesAsync(AppDbContext db, IEnumerable<WhatsAppMessage> rest, CancellationToken ct)
    {
        var ids = rest.Select(r => r.Id).ToList();
        var expires = await bulk.LeaseClockAsync(db, ct) + options.Value.LeaseDuration;
        var current = ids[0];
        if (await db.WhatsAppMessages.Where(m => m.Id == current && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseExpiresAtUtc, expires), ct) == 0)
            return false;
        if (ids.Count > 1)
            await db.WhatsAppMessages.Where(m => ids.Contains(m.Id) && m.Id != current && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseExpiresAtUtc, expires), ct);
        return true;
    }

    /// <summary>
    /// A throughput or pair-rate answer: this instance sends slower (in memory), and no instance starts a batch before the
    /// quiet time has passed (on the account row, read by all).
    /// </summary>
    private async Task SlowDownAsync(WhatsAppAccounts accounts, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var until = now + _slowDownDelay;
        _lastSlowDown = now;
        _slowDownDelay = TimeSpan.FromTicks(Math.Min(_slowDownDelay.Ticks * 2, LongestSlowDown.Ticks));
        _paceFactor = Math.Min(_paceFactor * 2, 16);
        await accounts.QuietUntilAsync(until, ct);
        logger.LogWarning("WhatsApp throughput answer: no new batch until {Until:O}, sending {Factor}x slower", until, _paceFactor);
    }

    private bool GraphRefreshDue(WhatsAppAccount account, DateTime now) =>
        account.GraphCheckedAtUtc is not { } checkedAt || checkedAt <= now - options.Value.LimitRefreshInterval;

    /// <summary>The Graph API is asked once per refresh interval by whichever instance claims it first (called only when a read shows it due).</summary>
    private async Task<bool> ClaimGraphRefreshAsync(AppDbContext db, DateTime now, CancellationToken ct)
    {
        var due = now - options.Value.LimitRefreshInterval;
        return await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId && (a.GraphCheckedAtUtc == null || a.GraphCheckedAtUtc <= due))
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.GraphCheckedAtUtc, now), ct) == 1;
    }

    /// <summary>
    /// Leases the next batch, no larger than the budget allows now. The account row's lock (RowLocks' way: a no-op write
    /// inside the transaction) makes count-then-lease one step across instances: what one instance leased, the next one
    /// counts as in flight. The lock is taken only when a read without it shows work and room for it.
    /// Due times are the app's clock; lease expiry is the lease clock (<see cref="IBulkSql.LeaseClockAsync"/>: on
    /// PostgreSQL the server's, the one clock all instances share), so a host whose clock runs ahead never takes a
    /// lease early. This holds on PostgreSQL as on SQLite: under READ COMMITTED each statement after the lock reads what
    /// the previous holder committed, and the lease UPDATE re-checks that every row is still due.
    /// </summary>
    private async Task<List<WhatsAppMessage>> ReserveAsync(AppDbContext db, WhatsAppAccounts accounts, CancellationToken ct)
    {
        // Read first, without the lock: an idle, paused or waiting queue (most rounds) takes no write lock at all.
        var readAt = await bulk.LeaseClockAsync(db, ct);
        var due = Due(db, clock.GetUtcNow().UtcDateTime, readAt);
        if (!await due.AnyAsync(ct)) return [];
        var estimate = await AllowanceAsync(db, accounts, readAt, ct);
        if (estimate is null or 0) return [];
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.WhatsAppAccounts.Where(a => a.Id == WhatsAppAccount.SingleId)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.Reservations, a => a.Reservations + 1), ct);
        var leaseNow = await bulk.LeaseClockAsync(db, ct);
        var allowance = await AllowanceAsync(db, accounts, leaseNow, ct);
        if (allowance is null or 0) return [];
        due = Due(db, clock.GetUtcNow().UtcDateTime, leaseNow);
        var ids = await due.OrderBy(m => m.Id).Select(m => m.Id).Take(Math.Min(allowance.Value, BatchSize)).ToListAsync(ct);
        if (ids.Count == 0) return [];
        var expires = leaseNow + options.Value.LeaseDuration;
        await due.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, WhatsAppStatus.Leased)
            .SetProperty(m => m.LeaseOwner, _owner)
            .SetProperty(m => m.LeaseExpiresAtUtc, expires), ct);
        await transaction.CommitAsync(ct);
        return await db.WhatsAppMessages.AsNoTracking()
            .Where(m => ids.Contains(m.Id) && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased)
            .OrderBy(m => m.Id).ToListAsync(ct);
    }

    /// <summary>
    /// What the pacing allows now; null while the queue is paused or quiet. The three counts are one statement: as
    /// separate ones, under READ COMMITTED (PostgreSQL) a row turning from Leased to Accepted between them is counted in
    /// neither.
    /// </summary>
    private async Task<int?> AllowanceAsync(AppDbContext db, WhatsAppAccounts accounts, DateTime leaseNow, CancellationToken ct)
    {
        var account = await accounts.GetAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        if (account.PausedAtUtc is not null || account.QualityRating == WhatsAppAccounts.Red || account.QuietUntilUtc > now) return null;
        var pacing = accounts.Pacing(account);
        var dayAgo = now - TimeSpan.FromHours(24);
        var batchStart = pacing.BatchStart(now);
        var counts = await db.WhatsAppMessages
            .Where(m => m.AcceptedAtUtc > dayAgo || m.Status == WhatsAppStatus.Leased)
            .GroupBy(m => 1)
            .Select(g => new
            {
                Last24h = g.Count(m => m.AcceptedAtUtc > dayAgo),
                ThisBatch = g.Count(m => m.AcceptedAtUtc >= batchStart),
                InFlight = g.Count(m => m.Status == WhatsAppStatus.Leased && m.LeaseExpiresAtUtc >= leaseNow),
            })
            .SingleOrDefaultAsync(ct);
        return pacing.Allowance(now, counts?.Last24h ?? 0, counts?.ThisBatch ?? 0, counts?.InFlight ?? 0);
    }

    private static IQueryable<WhatsAppMessage> Due(AppDbContext db, DateTime now, DateTime leaseNow) => db.WhatsAppMessages.Where(m =>
        (m.Status == WhatsAppStatus.Queued && m.NextAttemptAtUtc <= now) || (m.Status == WhatsAppStatus.Leased && m.LeaseExpiresAtUtc < leaseNow));

    /// <summary>Rows of a stopped batch go back to the queue as they were: no attempt is counted.</summary>
    private Task ReleaseAsync(AppDbContext db, IEnumerable<WhatsAppMessage> rows, CancellationToken ct)
    {
        var ids = rows.Select(r => r.Id).ToList();
        return ids.Count == 0 ? Task.CompletedTask : db.WhatsAppMessages
            .Where(m => ids.Contains(m.Id) && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, WhatsAppStatus.Queued)
                .SetProperty(m => m.LeaseOwner, (string?)null).SetProperty(m => m.LeaseExpiresAtUtc, (DateTime?)null), ct);
    }

    private async Task<WhatsAppErrorAction?> SendOneAsync(AppDbContext db, WhatsAppRefusals refusals, WhatsAppMessage row, CancellationToken ct)
    {
        var contact = await db.Contacts.AsNoTracking().SingleOrDefaultAsync(c => c.Id == row.ContactId, ct);
        var newsletter = contact is null ? null : await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == contact.NewsletterId, ct);
        if (newsletter is not null && !Newsletters.LegalReadiness.IsOpen(newsletter))
        {
            // C38 while live: the legal identity was emptied after the invitation was queued. Held back, not
            // cancelled, so the reader still gets the one invitation once it is complete again.
            await Mine(db, row).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, WhatsAppStatus.Queued).SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.NextAttemptAtUtc, clock.GetUtcNow().UtcDateTime + HeldBackFor), ct);
            return null;
        }
        // Re-checked right before sending: a reader who signed up or objected meanwhile, or a migration that ended, gets nothing.
        if (contact?.PhoneEncrypted is null || newsletter is null || contact.SignedUpAtUtc is not null || contact.ObjectedAtUtc is not null
            || InvitationQueue.Gate(newsletter, clock.GetUtcNow().UtcDateTime) != InvitationGate.Open
            || !await db.Contacts.Where(c => c.Id == contact.Id).AnyAsync(InvitationQueue.NotSuppressed(db), ct))
        {
            await Mine(db, row).ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, WhatsAppStatus.Cancelled).SetProperty(m => m.LeaseOwner, (string?)null), ct);
            return null;
        }

        var number = phones.Decrypt(contact.PhoneEncrypted);
        var parameters = WhatsAppTemplate.Values(WhatsAppTemplate.Parameters(options.Value.TemplateParameters), InvitationSender.Of(newsletter), links.InvitationUrl(contact));
        var (wamid, refusal) = await PostAsync(number, parameters, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var attempts = row.Attempts + 1;
        if (wamid is not null)
        {
            _failuresInARow = 0;
            // Also when an objection cancelled the row while its request was on the way: Meta accepted it, so it went out,
            // and the moving 24-hour budget must count it.
            // (An objection cancels a leased row but leaves its lease owner, for this.)
            var sent = db.WhatsAppMessages.Where(m => m.Id == row.Id && m.LeaseOwner == _owner
                && (m.Status == WhatsAppStatus.Leased || m.Status == WhatsAppStatus.Cancelled));
            await sent.ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, WhatsAppStatus.Accepted).SetProperty(m => m.Wamid, wamid)
                .SetProperty(m => m.AcceptedAtUtc, now).SetProperty(m => m.Attempts, attempts)
                .SetProperty(m => m.LastError, (string?)null).SetProperty(m => m.LastErrorCode, (int?)null)
                .SetProperty(m => m.LeaseOwner, (string?)null), ct);
            await db.Contacts.Where(c => c.Id == contact.Id && c.InvitedAtUtc == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.InvitedAtUtc, now), ct);
            logger.LogInformation("WhatsApp template accepted for contact {ContactId} ({Number})", contact.Id, Redact.Phone(number));
            return null;
        }
        var action = await refusals.ApplyAsync(Mine(db, row), row, attempts, refusal!, ct);
        // Only refusals that say nothing about the reader count: a run of readers who are not on WhatsApp, were held back
        // by Meta's marketing limit or objected is an honest list, not a broken set-up.
        if (action is WhatsAppErrorAction.Retry or WhatsAppErrorAction.Unknown or WhatsAppErrorAction.Fail) _failuresInARow++;
        row.LastError = refusal!.Error;
        return action;
    }

    /// <summary>POST {BaseUrl}/{PhoneNumberId}/messages with the approved template and its body parameters (the personal link among them).</summary>
    private async Task<(string? Wamid, WhatsAppRefusal? Refusal)> PostAsync(string e164, string[] parameters, CancellationToken ct)
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
                    ? (null, new WhatsAppRefusal(null, response.StatusCode, "answer without a message id"))
                    : (wamid, null);
            }
            int? code = null;
            var error = TryRead(body, d =>
            {
                var e = d.GetProperty("error");
                if (e.TryGetProperty("code", out var c) && c.TryGetInt32(out var number)) code = number;
                return $"error {(code?.ToString() ?? "?")}: {(e.TryGetProperty("message", out var m) ? m.GetString() : "")}";
            }) ?? "no error details";
            return (null, new WhatsAppRefusal(code, response.StatusCode, $"HTTP {(int)response.StatusCode}, {error}", response.Headers.RetryAfter?.Delta));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (null, new WhatsAppRefusal(null, null, ex.Message));
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

    // Results are written only by the lease holder.
    private IQueryable<WhatsAppMessage> Mine(AppDbContext db, WhatsAppMessage row) =>
        db.WhatsAppMessages.Where(m => m.Id == row.Id && m.LeaseOwner == _owner && m.Status == WhatsAppStatus.Leased);
}
