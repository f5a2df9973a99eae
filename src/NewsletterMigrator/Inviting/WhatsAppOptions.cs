using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// The WhatsApp Business Platform (Cloud API). Secrets (AccessToken, AppSecret, VerifyToken) come from
/// environment variables (WhatsApp__AccessToken) or user secrets, never from appsettings.json.
/// </summary>
public sealed class WhatsAppOptions
{
    public const string Section = "WhatsApp";

    public bool Enabled { get; set; }
    public string? AccessToken { get; set; }
    public string? PhoneNumberId { get; set; }
    /// <summary>The approved template (C41: it names the sender, says why, links the privacy notice and says "reply STOP").</summary>
    public string? TemplateName { get; set; }
    /// <summary>
    /// The template's body parameters in order, from sender, link and privacy (see WhatsAppTemplate): "link"
    /// when sender and privacy link are written into the approved body, "sender,link,privacy" for one
    /// template shared by several newsletters.
    /// </summary>
    public string TemplateParameters { get; set; } = WhatsAppTemplate.Link;
    public string TemplateLanguage { get; set; } = "de";
    /// <summary>Signs the webhooks (X-Hub-Signature-256, C28).</summary>
    public string? AppSecret { get; set; }
    /// <summary>Answers the webhook subscription handshake (hub.verify_token).</summary>
    public string? VerifyToken { get; set; }
    public string BaseUrl { get; set; } = "https://graph.facebook.com/v21.0";
    public double MessagesPerSecond { get; set; } = 10;
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
    public int MaxAttempts { get; set; } = 10;
}

public sealed class WhatsAppOptionsValidator : IValidateOptions<WhatsAppOptions>
{
    public ValidateOptionsResult Validate(string? name, WhatsAppOptions o)
    {
        if (!o.Enabled) return ValidateOptionsResult.Success;
        var errors = new List<string>();
        void Require(string? value, string key)
        {
            if (string.IsNullOrWhiteSpace(value)) errors.Add($"WhatsApp:{key} must be set when WhatsApp:Enabled is true (environment variable WhatsApp__{key} or user secrets).");
        }
        Require(o.AccessToken, nameof(o.AccessToken));
        Require(o.PhoneNumberId, nameof(o.PhoneNumberId));
        Require(o.TemplateName, nameof(o.TemplateName));
        Require(o.TemplateLanguage, nameof(o.TemplateLanguage));
        Require(o.AppSecret, nameof(o.AppSecret));
        Require(o.VerifyToken, nameof(o.VerifyToken));
        var parameters = WhatsAppTemplate.Parameters(o.TemplateParameters);
        if (!parameters.Contains(WhatsAppTemplate.Link) || parameters.Any(p => !WhatsAppTemplate.Known.Contains(p)) || parameters.Distinct().Count() != parameters.Length)
            errors.Add($"WhatsApp:TemplateParameters must list the template's body parameters in order, each once, from {string.Join(", ", WhatsAppTemplate.Known)}, and include link (was '{o.TemplateParameters}').");
        if (!WebLink.IsValid(o.BaseUrl))
            errors.Add($"WhatsApp:BaseUrl must be an absolute http(s) URL (was '{o.BaseUrl}').");
        if (o.MessagesPerSecond is <= 0 or > 1000 || double.IsNaN(o.MessagesPerSecond))
            errors.Add($"WhatsApp:MessagesPerSecond must be greater than 0 and at most 1000 (was {o.MessagesPerSecond}).");
        if (o.MaxAttempts < 1) errors.Add($"WhatsApp:MaxAttempts must be at least 1 (was {o.MaxAttempts}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
