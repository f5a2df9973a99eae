using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The only fake in the tests: a loopback HTTP server speaking the WhatsApp Cloud API's message format
/// (POST /{version}/{phone-number-id}/messages), the phone number's fields (GET /{version}/{phone-number-id}: messaging
/// limit and quality rating), its error answers, and its signed webhooks.
/// </summary>
public sealed class FakeGraphApi : IAsyncDisposable
{
    public sealed record Received(string Path, string? Authorization, JsonElement Body);

    private readonly WebApplication _app;
    public const string AppSecret = "test-app-secret";
    public const string VerifyToken = "test-verify-token";
    public const string PhoneNumberId = "106540352242922";
    public const string TemplateName = "newsletter_umzug";

    // Status 0 stands for "accept this one".
    private readonly ConcurrentQueue<(int Status, string? Body, string? RetryAfter)> _scripted = new();
    private int _counter;

    public FakeGraphApi()
    {
        Port = TestSmtpServer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls($"http://127.0.0.1:{Port}");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v21.0/{phoneNumberId}/messages", HandleAsync);
        _app.MapGet("/v21.0/{phoneNumberId}", PhoneNumber);
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/v21.0";
    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The portfolio's messaging limit as the phone number's whatsapp_business_manager_messaging_limit field gives it (null: field absent).</summary>
    public string? MessagingLimit { get; set; } = "TIER_10K";
    /// <summary>The number's quality_rating field (null: the field absent, as when Meta has not rated it).</summary>
    public string? QualityRating { get; set; } = "GREEN";
    /// <summary>
    /// The approved template's state at Meta: while it is PAUSED (or DISABLED) every message with it is refused with 132015
    /// (132016), as the Cloud API does until the template is approved again.
    /// </summary>
    public string TemplateStatus { get; set; } = "APPROVED";
    /// <summary>How often the phone number's fields were read.</summary>
    public int PhoneNumberReads => _phoneNumberReads;
    private int _phoneNumberReads;

    /// <summary>The next answers, in order; afterwards every request is accepted.</summary>
    public void Answer(int status, string? body = null, string? retryAfter = null) => _scripted.Enqueue((status, body, retryAfter));

    /// <summary>The next <paramref name="count"/> requests are accepted (before a scripted refusal).</summary>
    public void Accept(int count)
    {
        for (var i = 0; i < count; i++) _scripted.Enqueue((0, null, null));
    }

    /// <summary>The next request is refused with Meta's error <paramref name="code"/>, as the Graph API writes it.</summary>
    public void Refuse(int code, int status = 400, string? retryAfter = null) => Answer(status, ErrorBody(code), retryAfter);

    public static string ErrorBody(int code, string message = "refused") => JsonSerializer.Serialize(new
    {
        error = new { message = $"(#{code}) {message}", type = "OAuthException", code, error_data = new { messaging_product = "whatsapp", details = message }, fbtrace_id = "Az8or2yhqkZfEZ-_4Qn_Bam" },
    });

    /// <summary>The settings that point the app at this server, with all-day sending in one daily batch unless a test sets its own.</summary>
    public Dictionary<string, string?> Settings(bool enabled = true) => new()
    {
        ["WhatsApp:Enabled"] = enabled ? "true" : "false",
        ["WhatsApp:AccessToken"] = "EAAG-test-token",
        ["WhatsApp:PhoneNumberId"] = PhoneNumberId,
        ["WhatsApp:TemplateName"] = TemplateName,
        ["WhatsApp:TemplateLanguage"] = "de",
        ["WhatsApp:AppSecret"] = AppSecret,
        ["WhatsApp:VerifyToken"] = VerifyToken,
        ["WhatsApp:BaseUrl"] = BaseUrl,
        ["WhatsApp:MessagesPerSecond"] = "50",
        ["WhatsApp:PollInterval"] = "00:00:00.200",
        ["WhatsApp:FirstRetryDelay"] = "00:00:00.100",
        ["WhatsApp:SlowDownDelay"] = "00:00:00.100",
        ["WhatsApp:SendingHours"] = "00:00-24:00",
        ["WhatsApp:BatchInterval"] = "1.00:00:00",
    };

    private IResult PhoneNumber(string phoneNumberId, HttpContext context)
    {
        Interlocked.Increment(ref _phoneNumberReads);
        var fields = new Dictionary<string, object> { ["id"] = phoneNumberId };
        if (QualityRating is not null) fields["quality_rating"] = QualityRating;
        if (MessagingLimit is not null) fields["whatsapp_business_manager_messaging_limit"] = MessagingLimit;
        return Results.Json(fields);
    }

    private async Task HandleAsync(HttpContext context, string phoneNumberId)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body);
        Requests.Enqueue(new Received(context.Request.Path, context.Request.Headers.Authorization.ToString(), document.RootElement.Clone()));
        if (_scripted.TryDequeue(out var answer) && answer.Status != 0)
        {
            context.Response.StatusCode = answer.Status;
            if (answer.RetryAfter is not null) context.Response.Headers.RetryAfter = answer.RetryAfter;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body ?? """{"error":{"message":"(#131000) Something went wrong","type":"OAuthException","code":131000}}""");
            return;
        }
        if (TemplateStatus is "PAUSED" or "DISABLED" && document.RootElement.TryGetProperty("template", out var template)
            && template.TryGetProperty("name", out var name) && name.GetString() == TemplateName)
        {
            var code = TemplateStatus == "PAUSED" ? 132015 : 132016;
            context.Response.StatusCode = 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(ErrorBody(code, $"Template is {TemplateStatus.ToLowerInvariant()} due to low quality"));
            return;
        }
        var to = document.RootElement.GetProperty("to").GetString();
        var wamid = $"wamid.HBgN{Interlocked.Increment(ref _counter):D6}";
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            messaging_product = "whatsapp",
            contacts = new[] { new { input = to, wa_id = to } },
            messages = new[] { new { id = wamid } },
        }));
    }

    /// <summary>A status webhook as Meta sends it.</summary>
    public static string StatusWebhook(string wamid, string status, string recipient, long unixTime, int? errorCode = null) => Webhook(new
    {
        messaging_product = "whatsapp",
        metadata = Metadata,
        statuses = new[]
        {
            new
            {
                id = wamid, status, timestamp = unixTime.ToString(), recipient_id = recipient,
                errors = errorCode is null ? Array.Empty<object>() : [new { code = errorCode, title = "Message undeliverable" }],
            },
        },
    });

    /// <summary>An incoming text message as Meta forwards a reader's reply ("from": digits without '+').</summary>
    public static string MessageWebhook(string from, string text, long unixTime) => Webhook(new
    {
        messaging_product = "whatsapp",
        metadata = Metadata,
        contacts = new[] { new { profile = new { name = "Leserin" }, wa_id = from } },
        messages = new[] { new { from, id = $"wamid.IN{unixTime}", timestamp = unixTime.ToString(), type = "text", text = new { body = text } } },
    });

    /// <summary>A failed status for a sent template with Meta's error code (131026, 131049 …).</summary>
    public static string FailedWebhook(string wamid, string recipient, long unixTime, int code) => StatusWebhook(wamid, "failed", recipient, unixTime, code);

    /// <summary>The portfolio's messaging limit changed (business_capability_update; -1 is unlimited).</summary>
    public static string CapabilityWebhook(int limit) => Webhook("business_capability_update", new
    {
        max_daily_conversation_per_phone = limit,
        max_daily_conversations_per_business = limit,
        max_phone_numbers_per_business = 2,
    });

    /// <summary>The number's quality or limit changed (phone_number_quality_update: FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE).</summary>
    public static string QualityWebhook(string @event, string currentLimit) => Webhook("phone_number_quality_update", new
    {
        display_phone_number = "15550783881",
        @event,
        current_limit = currentLimit,
        max_daily_conversations_per_business = currentLimit,
    });

    /// <summary>The template's status changed (message_template_status_update: APPROVED, PAUSED, DISABLED, REJECTED …).</summary>
    public static string TemplateWebhook(string @event, string name = TemplateName, string language = "de", string reason = "NONE") =>
        Webhook("message_template_status_update", new
        {
            @event,
            message_template_id = 594425479261596,
            message_template_name = name,
            message_template_language = language,
            reason,
            message_template_category = "MARKETING",
        });

    /// <summary>The reader chose "stop marketing messages" for the business (user_preferences).</summary>
    public static string MarketingStopWebhook(string waId, long unixTime) => Webhook("user_preferences", new
    {
        messaging_product = "whatsapp",
        metadata = Metadata,
        contacts = new[] { new { wa_id = waId, profile = new { name = "Leser" } } },
        user_preferences = new[] { new { wa_id = waId, detail = "User requested to stop marketing messages", category = "marketing_messages", value = "stop", timestamp = unixTime } },
    });

    private static readonly object Metadata = new { display_phone_number = "15550783881", phone_number_id = "106540352242922" };

    /// <summary>The envelope every webhook of the WhatsApp Business Account comes in: one entry, one change of the field.</summary>
    private static string Webhook(object value) => Webhook("messages", value);

    private static string Webhook(string field, object value) => JsonSerializer.Serialize(new
    {
        @object = "whatsapp_business_account",
        entry = new[] { new { id = "102290129340398", time = 1748454394, changes = new[] { new { field, value } } } },
    });

    public static string Sign(string body, string appSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), Encoding.UTF8.GetBytes(body)));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
