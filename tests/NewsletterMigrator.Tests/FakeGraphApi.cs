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
/// (POST /{version}/{phone-number-id}/messages) and producing its signed status webhooks.
/// </summary>
public sealed class FakeGraphApi : IAsyncDisposable
{
    public sealed record Received(string Path, string? Authorization, JsonElement Body);

    private readonly WebApplication _app;
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
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/v21.0";
    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The next answers, in order; afterwards every request is accepted.</summary>
    public void Answer(int status, string? body = null, string? retryAfter = null) => _scripted.Enqueue((status, body, retryAfter));

    private async Task HandleAsync(HttpContext context, string phoneNumberId)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body);
        Requests.Enqueue(new Received(context.Request.Path, context.Request.Headers.Authorization.ToString(), document.RootElement.Clone()));
        if (_scripted.TryDequeue(out var answer))
        {
            context.Response.StatusCode = answer.Status;
            if (answer.RetryAfter is not null) context.Response.Headers.RetryAfter = answer.RetryAfter;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body ?? """{"error":{"message":"(#131000) Something went wrong","type":"OAuthException","code":131000}}""");
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

    private static readonly object Metadata = new { display_phone_number = "15550783881", phone_number_id = "106540352242922" };

    /// <summary>The envelope every webhook of the WhatsApp Business Account comes in: one entry, one "messages" change.</summary>
    private static string Webhook(object value) => JsonSerializer.Serialize(new
    {
        @object = "whatsapp_business_account",
        entry = new[] { new { id = "102290129340398", changes = new[] { new { field = "messages", value } } } },
    });

    public static string Sign(string body, string appSecret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), Encoding.UTF8.GetBytes(body)));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
