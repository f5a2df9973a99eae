using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;
using QRCoder;

namespace NewsletterMigrator.Inviting;

/// <summary>The non-page endpoints of inviting: the WhatsApp webhook, the contact export and the sign-up QR codes.</summary>
public static class InvitingEndpoints
{
    private const int MaxWebhookBytes = 1024 * 1024;

    public static WebApplication MapInviting(this WebApplication app)
    {
        // Meta calls these without cookies or antiforgery tokens; the signature is the authentication (C28).
        app.MapGet("/webhooks/whatsapp", VerifySubscription).AllowAnonymous();
        app.MapPost("/webhooks/whatsapp", ReceiveAsync).AllowAnonymous().DisableAntiforgery();
        app.MapGet("/admin/contacts/{newsletterId:int}/export.csv", ExportAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        app.MapGet("/admin/signup/{newsletterId:int}/qr.{format}", QrCodeAsync).RequireAuthorization();
        return app;
    }

    /// <summary>The subscription handshake: echo hub.challenge when hub.verify_token matches.</summary>
    internal static IResult VerifySubscription(HttpContext context, IOptions<WhatsAppOptions> options)
    {
        var o = options.Value;
        var query = context.Request.Query;
        if (!o.Enabled || string.IsNullOrEmpty(o.VerifyToken)) return Results.NotFound();
        var token = query["hub.verify_token"].ToString();
        var matches = CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(o.VerifyToken));
        if (query["hub.mode"] != "subscribe" || !matches) return Results.StatusCode(StatusCodes.Status403Forbidden);
        return Results.Text(query["hub.challenge"].ToString(), "text/plain");
    }

    /// <summary>
    /// Delivery states of sent templates (a failure is handled by its code, <see cref="WhatsAppErrors"/>), readers' replies
    /// and marketing opt-outs (a STOP is an objection, carried out at once: C41, C44), and the portfolio's state: messaging
    /// limit, quality rating and the template's status.
    /// </summary>
    internal static async Task<IResult> ReceiveAsync(HttpContext context, IOptions<WhatsAppOptions> options, AppDbContext db,
        PhoneObjections objections, WhatsAppAccounts accounts, WhatsAppRefusals refusals, ILoggerFactory loggers)
    {
        var o = options.Value;
        if (!o.Enabled || string.IsNullOrEmpty(o.AppSecret)) return Results.NotFound();
        var body = await ReadLimitedAsync(context.Request.Body, context.RequestAborted);
        var logger = loggers.CreateLogger("NewsletterMigrator.Inviting.WhatsAppWebhook");
        if (body is null) return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        if (!SignatureIsValid(body, context.Request.Headers["X-Hub-Signature-256"].ToString(), o.AppSecret))
        {
            logger.LogWarning("WhatsApp webhook with a missing or wrong X-Hub-Signature-256 rejected");
            return Results.Unauthorized();
        }
        Webhook webhook;
        try
        {
            webhook = WhatsAppWebhook.Parse(body);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return Results.BadRequest();
        }
        var ct = context.RequestAborted;
        foreach (var limit in webhook.Limits) await accounts.SetLimitAsync(limit, "webhook", ct);
        foreach (var quality in webhook.Qualities)
        {
            if (quality is null) await accounts.RequestGraphRefreshAsync(ct);
            else await accounts.SetQualityAsync(quality, "webhook", ct);
        }
        foreach (var template in webhook.Templates) await accounts.TemplateStatusAsync(template.Name, template.Language, template.Status, template.Reason, ct);
        foreach (var update in webhook.Statuses) await RecordAsync(db, refusals, objections, accounts, logger, update, ct);
        foreach (var sender in webhook.StopSenders)
            await objections.ObjectNumberAsync(sender, WithdrawalChannel.WhatsApp, "whatsapp-webhook", ct);
        if (webhook.StopSenders.Count > 0) await accounts.CheckObjectionRateAsync(ct);
        return Results.Ok();
    }

    /// <summary>HMAC-SHA256 of the raw body with the app secret, compared in constant time.</summary>
    public static bool SignatureIsValid(byte[] body, string header, string appSecret)
    {
        const string prefix = "sha256=";
        if (!header.StartsWith(prefix, StringComparison.Ordinal) || header.Length != prefix.Length + 64) return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream body, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxWebhookBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    // Webhooks arrive out of order: each timestamp is recorded, the status only moves forward.
    private static async Task RecordAsync(AppDbContext db, WhatsAppRefusals refusals, PhoneObjections objections, WhatsAppAccounts accounts, ILogger logger,
        StatusUpdate update, CancellationToken ct)
    {
        var rows = db.WhatsAppMessages.Where(m => m.Wamid == update.Wamid);
        switch (update.Status)
        {
            case WhatsAppStatus.Sent:
                await rows.ExecuteUpdateAsync(u => u.SetProperty(m => m.SentAtUtc, m => m.SentAtUtc ?? update.AtUtc)
                    .SetProperty(m => m.Status, m => m.Status == WhatsAppStatus.Accepted ? WhatsAppStatus.Sent : m.Status), ct);
                break;
            case WhatsAppStatus.Delivered:
                await rows.ExecuteUpdateAsync(u => u.SetProperty(m => m.DeliveredAtUtc, m => m.DeliveredAtUtc ?? update.AtUtc)
                    .SetProperty(m => m.Status, m => m.Status == WhatsAppStatus.Accepted || m.Status == WhatsAppStatus.Sent ? WhatsAppStatus.Delivered : m.Status), ct);
                await OnWhatsAppAfterAllAsync(db, rows, update.AtUtc, ct);
                break;
            case WhatsAppStatus.Read:
                await rows.ExecuteUpdateAsync(u => u.SetProperty(m => m.ReadAtUtc, m => m.ReadAtUtc ?? update.AtUtc)
                    .SetProperty(m => m.Status, m => m.Status == WhatsAppStatus.Failed ? m.Status : WhatsAppStatus.Read), ct);
                await OnWhatsAppAfterAllAsync(db, rows, update.AtUtc, ct);
                break;
            case WhatsAppStatus.Failed:
                // Handled by its code like a synchronous refusal, once: only while the message is still on its way.
                var message = await rows.AsNoTracking().FirstOrDefaultAsync(ct);
                var onItsWay = message is { Status: WhatsAppStatus.Accepted or WhatsAppStatus.Sent or WhatsAppStatus.Delivered };
                if (message is not null && onItsWay)
                {
                    var mine = rows.Where(m => m.Id == message.Id
                        && (m.Status == WhatsAppStatus.Accepted || m.Status == WhatsAppStatus.Sent || m.Status == WhatsAppStatus.Delivered));
                    await refusals.ApplyAsync(mine, message, message.Attempts, new WhatsAppRefusal(update.Code, null, update.Error ?? "failed"), ct);
                    break;
                }
                // The status can overtake the worker's record of the acceptance (its write waits for SQLite's lock), or come
                // again after the row failed: the message's state is no longer ours to change, but a reader who stopped
                // marketing messages has objected all the same (C41), like a STOP reply, by the number Meta names.
                var objection = WhatsAppErrors.Classify(update.Code, null) == WhatsAppErrorAction.Objection && update.Recipient is not null;
                if (objection)
                {
                    await objections.ObjectNumberAsync(update.Recipient!, WithdrawalChannel.WhatsApp, "whatsapp-webhook", ct);
                    await accounts.CheckObjectionRateAsync(ct);
                }
                if (message is null)
                    logger.LogInformation("WhatsApp failed status ({Code}) for a message not recorded (yet){Objection}",
                        update.Code?.ToString() ?? "no code", objection ? ": objection carried out by the recipient's number" : "");
                break;
        }
    }

    /// <summary>
    /// A delivered or read invitation proves the reader can receive WhatsApp messages: an earlier "not on WhatsApp" (131026,
    /// say an old app since updated) no longer holds, unless it was recorded after this delivery (a late webhook).
    /// </summary>
    private static Task OnWhatsAppAfterAllAsync(AppDbContext db, IQueryable<WhatsAppMessage> rows, DateTime atUtc, CancellationToken ct) =>
        db.Contacts.Where(c => c.NotOnWhatsAppAtUtc != null && c.NotOnWhatsAppAtUtc <= atUtc && rows.Any(m => m.ContactId == c.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.NotOnWhatsAppAtUtc, (DateTime?)null), ct);

    /// <summary>The export's query option for the contacts Meta reported as not on WhatsApp (131026), to reach through another channel.</summary>
    public const string NotOnWhatsAppFilter = "not-on-whatsapp";

    public static string ExportPath(int newsletterId, bool onlyNotOnWhatsApp = false) =>
        $"/admin/contacts/{newsletterId}/export.csv" + (onlyNotOnWhatsApp ? $"?only={NotOnWhatsAppFilter}" : "");

    /// <summary>
    /// Contacts with their personal and wa.me links for the portal's own tool; formula-safe and audit-logged.
    /// <c>?only=not-on-whatsapp</c>: only those Meta reported as unable to receive WhatsApp messages, for another channel.
    /// </summary>
    internal static async Task<IResult> ExportAsync(int newsletterId, string? only, HttpContext context, AppDbContext db, InvitationLinks links,
        PhoneProtector phones, TimeProvider clock, Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> text)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == newsletterId);
        if (newsletter is null) return Results.NotFound();
        var onlyNotOnWhatsApp = only == NotOnWhatsAppFilter;
        if (!string.IsNullOrEmpty(only) && !onlyNotOnWhatsApp)
            return Results.Text(text["WaScale_ExportUnknownFilter", NotOnWhatsAppFilter].Value, "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        // Personal links only from an open newsletter (C38) while the migration runs (C16, C29).
        var gate = InvitationQueue.Gate(newsletter, clock.GetUtcNow().UtcDateTime);
        if (gate != InvitationGate.Open)
            return Results.Text(text[InvitationQueue.MessageKey(gate)].Value, "text/plain; charset=utf-8", statusCode: StatusCodes.Status409Conflict);
        // A number that objected or is suppressed (C41, C18) is not exported: no link may reach it, by any channel.
        var contacts = db.Contacts.AsNoTracking().Where(c => c.NewsletterId == newsletterId && c.ObjectedAtUtc == null)
            .Where(InvitationQueue.NotSuppressed(db));
        // For another channel: only readers still to be reached. One who signed up or left meanwhile (perhaps through a
        // forwarded link) needs no second invitation (C11), and one whose number retention erased has none to export.
        if (onlyNotOnWhatsApp)
            contacts = contacts.Where(c => c.NotOnWhatsAppAtUtc != null && c.SignedUpAtUtc == null && c.UnsubscribedAtUtc == null && c.PhoneEncrypted != null);
        var count = await contacts.CountAsync();
        db.Audit(context.User.Identity!.Name!, "export",
            $"exported {count} contacts of newsletter {newsletter.Slug} with links" + (onlyNotOnWhatsApp ? ", only those not on WhatsApp (for another channel)" : ""),
            clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();

        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"contacts-{newsletter.Slug}{(onlyNotOnWhatsApp ? "-" + NotOnWhatsAppFilter : "")}.csv\"";
        context.Response.Headers.CacheControl = "no-store";
        await using var csv = SafeCsvWriter.ForStream(context.Response.Body, quoteAll: true);
        await csv.WriteRowAsync(text["Contacts_Name"], text["Contacts_Number"], text["Queue_Import"], text["Contacts_Status"], text["Contacts_Invitation"], "wa.me");
        Guid? after = null;
        while (true)
        {
            var page = contacts;
            if (after is { } a) page = page.Where(c => c.Id.CompareTo(a) > 0);
            var rows = await page.OrderBy(c => c.Id).Take(1000).ToListAsync(context.RequestAborted);
            if (rows.Count == 0) break;
            foreach (var c in rows)
            {
                var number = c.PhoneEncrypted is null ? null : phones.Decrypt(c.PhoneEncrypted);
                // A wa.me link to a number Meta says cannot receive WhatsApp messages leads nowhere.
                await csv.WriteRowAsync(c.DisplayName, number, c.ImportBatchId.ToString(), ContactStatus.Text(c, text),
                    links.InvitationUrl(c), number is null || c.NotOnWhatsAppAtUtc is not null ? "" : links.WhatsAppUrl(newsletter, c, number));
            }
            after = rows[^1].Id;
        }
        await csv.FlushAsync();
        return Results.Empty;
    }

    /// <summary>The general sign-up URL (/n/{slug}) as a QR code for print (PNG) or the web (SVG).</summary>
    internal static async Task<IResult> QrCodeAsync(int newsletterId, string format, AppDbContext db, IOptions<AppOptions> app)
    {
        var newsletter = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == newsletterId);
        if (newsletter is null || format is not ("png" or "svg")) return Results.NotFound();
        var url = app.Value.Link($"n/{newsletter.Slug}");
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(url, QRCodeGenerator.ECCLevel.M);
        var name = $"signup-{newsletter.Slug}.{format}";
        return format == "png"
            ? Results.File(new PngByteQRCode(data).GetGraphic(20), "image/png", name)
            : Results.File(Encoding.UTF8.GetBytes(new SvgQRCode(data).GetGraphic(10)), "image/svg+xml", name);
    }
}
