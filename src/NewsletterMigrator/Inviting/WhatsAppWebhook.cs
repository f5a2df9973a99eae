using System.Text.Json;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// A delivery state of a sent template; for "failed", Meta's error code and title. <see cref="Recipient"/>: the reader's
/// number (E.164) from recipient_id, to act on the reader when the message itself is not found; never logged.
/// </summary>
public sealed record StatusUpdate(string Wamid, WhatsAppStatus Status, DateTime AtUtc, int? Code, string? Error, string? Recipient = null);

public sealed record TemplateEvent(string Name, string Language, string Status, string? Reason);

/// <summary>
/// What a webhook carries that we act on. <see cref="Qualities"/>: a rating (GREEN, YELLOW, RED), or null where Meta only
/// says that it changed (UNFLAGGED), so the Graph API is asked again.
/// </summary>
public sealed record Webhook(List<StatusUpdate> Statuses, List<string> StopSenders, List<int> Limits, List<string?> Qualities, List<TemplateEvent> Templates);

/// <summary>
/// Reads the WhatsApp Business Account webhook (object "whatsapp_business_account"), one entry per change, by its field:
/// messages (statuses and replies), user_preferences (marketing stop), business_capability_update (limit),
/// phone_number_quality_update (limit and flag) and message_template_status_update.
/// </summary>
public static class WhatsAppWebhook
{
    public static Webhook Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var webhook = new Webhook([], [], [], [], []);
        if (!document.RootElement.TryGetProperty("entry", out var entries)) return webhook;
        foreach (var entry in entries.EnumerateArray())
        {
            if (!entry.TryGetProperty("changes", out var changes)) continue;
            foreach (var change in changes.EnumerateArray())
            {
                if (!change.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object) continue;
                var field = change.TryGetProperty("field", out var f) ? f.GetString() : "messages";
                switch (field)
                {
                    case "business_capability_update":
                        // max_daily_conversations_per_business since 2025; the per-phone field before it.
                        if ((Limit(value, "max_daily_conversations_per_business") ?? Limit(value, "max_daily_conversation_per_phone")) is { } limit)
                            webhook.Limits.Add(limit);
                        break;
                    case "phone_number_quality_update":
                        if ((Limit(value, "max_daily_conversations_per_business") ?? Limit(value, "current_limit")) is { } current) webhook.Limits.Add(current);
                        var rating = Text(value, "quality_rating");
                        var qualityEvent = Text(value, "event");
                        if (rating is not null) webhook.Qualities.Add(rating);
                        else if (qualityEvent == "FLAGGED") webhook.Qualities.Add(WhatsAppAccounts.Red);
                        else if (qualityEvent is "UNFLAGGED" or "UPGRADE" or "DOWNGRADE") webhook.Qualities.Add(null);
                        break;
                    case "message_template_status_update":
                        if (Text(value, "message_template_name") is { } name && Text(value, "event") is { } status)
                            webhook.Templates.Add(new TemplateEvent(name, Text(value, "message_template_language") ?? "", status, Text(value, "reason")));
                        break;
                    case "user_preferences":
                        webhook.StopSenders.AddRange(MarketingStops(value));
                        break;
                    default:
                        if (value.TryGetProperty("messages", out var messages)) webhook.StopSenders.AddRange(StopSenders(messages));
                        if (value.TryGetProperty("statuses", out var statuses)) webhook.Statuses.AddRange(Statuses(statuses));
                        break;
                }
            }
        }
        return webhook;
    }

    private static int? Limit(JsonElement value, string property) =>
        value.TryGetProperty(property, out var element) ? WhatsAppAccounts.ParseLimit(element) : null;

    private static string? Text(JsonElement value, string property) =>
        value.TryGetProperty(property, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    private static IEnumerable<StatusUpdate> Statuses(JsonElement statuses)
    {
        foreach (var s in statuses.EnumerateArray())
        {
            var kind = Text(s, "status") switch
            {
                "sent" => WhatsAppStatus.Sent,
                "delivered" => WhatsAppStatus.Delivered,
                "read" => WhatsAppStatus.Read,
                "failed" => WhatsAppStatus.Failed,
                _ => (WhatsAppStatus?)null,
            };
            var id = Text(s, "id");
            if (kind is null || string.IsNullOrEmpty(id)) continue;
            var at = s.TryGetProperty("timestamp", out var ts) && long.TryParse(ts.GetString(), out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime : DateTime.UtcNow;
            int? code = null;
            string? error = null;
            if (s.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                var e = errors[0];
                if (e.TryGetProperty("code", out var c) && c.TryGetInt32(out var number)) code = number;
                error = Redact.Text($"{code?.ToString() ?? "?"}: {Text(e, "title") ?? Text(e, "message") ?? ""}");
            }
            yield return new StatusUpdate(id, kind.Value, at, code, error, E164(Text(s, "recipient_id")));
        }
    }

    /// <summary>
    /// Incoming messages whose text (or quick-reply button) is a STOP word; other replies are not stored or
    /// logged: the app reads no chats, staff see them in WhatsApp. "from" is the number's digits without '+'.
    /// </summary>
    private static IEnumerable<string> StopSenders(JsonElement messages)
    {
        foreach (var m in messages.EnumerateArray())
        {
            var text = Text(m, "type") switch
            {
                "text" => Read(m, "text", "body"),
                "button" => Read(m, "button", "text"),
                "interactive" => m.TryGetProperty("interactive", out var i) ? Read(i, "button_reply", "title") : null,
                _ => null,
            };
            if (PhoneObjections.IsStopWord(text) && E164(Text(m, "from")) is { } number) yield return number;
        }
    }

    /// <summary>The reader chose "stop marketing messages" for this business in WhatsApp: an objection like a STOP.</summary>
    private static IEnumerable<string> MarketingStops(JsonElement value)
    {
        if (!value.TryGetProperty("user_preferences", out var preferences) || preferences.ValueKind != JsonValueKind.Array) yield break;
        foreach (var p in preferences.EnumerateArray())
            if (Text(p, "category") == "marketing_messages" && Text(p, "value") == "stop" && E164(Text(p, "wa_id")) is { } number)
                yield return number;
    }

    // The digits are the full international number, so "+" makes the E.164 form the importer hashed.
    private static string? E164(string? digits)
    {
        digits = digits?.TrimStart('+');
        return digits is { Length: >= 7 and <= 15 } && digits.All(char.IsAsciiDigit) ? "+" + digits : null;
    }

    private static string? Read(JsonElement element, string property, string inner) =>
        element.TryGetProperty(property, out var outer) && outer.ValueKind == JsonValueKind.Object ? Text(outer, inner) : null;
}
