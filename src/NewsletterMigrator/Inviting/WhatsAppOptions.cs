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
    /// <summary>
    /// The portfolio's messaging limit where the Graph API does not say (unique people per moving 24 hours). Meta's own
    /// value (read at start, every <see cref="LimitRefreshInterval"/> and from the business_capability_update webhook)
    /// wins; without either, 250, the limit of a new portfolio.
    /// </summary>
    public int? MessagingLimit { get; set; }
    public TimeSpan LimitRefreshInterval { get; set; } = TimeSpan.FromHours(3);
    /// <summary>When invitations may go out, German time; the day's budget is spread over these hours.</summary>
    public string SendingHours { get; set; } = "09:00-20:00";
    /// <summary>The day's budget goes out in batches this far apart, so replies and STOPs come back before the next one.</summary>
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>
    /// The whole queue pauses when this share of the last 24 hours' invitations was answered with an objection: a STOP reply or
    /// WhatsApp's "stop marketing messages" (131050, user_preferences). Meta reports no plain blocks; those show in the quality rating …
    /// </summary>
    public double PauseAtObjectionRate { get; set; } = 0.05;
    /// <summary>… once at least this many invitations went out in that time.</summary>
    public int ObjectionRateMinimum { get; set; } = 100;
    /// <summary>The whole queue pauses after this many refusals in a row that say nothing about the reader (Retry, Unknown and Fail codes).</summary>
    public int PauseAfterFailuresInARow { get; set; } = 20;
    /// <summary>How often Meta's per-user marketing limit (131049) may defer one invitation by a day before it is recorded as failed.</summary>
    public int DayDeferrals { get; set; } = 3;
    /// <summary>How often a message refused with a code not in the table is tried before it is recorded as failed.</summary>
    public int UnknownErrorAttempts { get; set; } = 3;
    /// <summary>How long the worker holds back after a throughput or pair-rate answer (doubling while they go on, at most 15 minutes).</summary>
    public TimeSpan SlowDownDelay { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
    public int MaxAttempts { get; set; } = 10;
}

public static class WhatsAppOptionsExtensions
{
    /// <summary>The sending hours as configured (the validator has checked them).</summary>
    public static SendingHours Hours(this WhatsAppOptions o) => SendingHours.TryParse(o.SendingHours, out var h) ? h : SendingHours.AllDay;
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
        if (o.MessagingLimit is < 1) errors.Add($"WhatsApp:MessagingLimit must be at least 1 (was {o.MessagingLimit}); leave it unset to use Meta's value or 250.");
        if (!Inviting.SendingHours.TryParse(o.SendingHours, out var hours))
            errors.Add($"WhatsApp:SendingHours must be two times of day, German time, the first before the second, e.g. 09:00-20:00 or 00:00-24:00 (was '{o.SendingHours}').");
        else if (o.BatchInterval < TimeSpan.FromSeconds(1) || o.BatchInterval > hours.Length)
            errors.Add($"WhatsApp:BatchInterval must be at least a second and at most the sending hours' length (was {o.BatchInterval}).");
        if (o.LimitRefreshInterval < TimeSpan.FromMinutes(1)) errors.Add($"WhatsApp:LimitRefreshInterval must be at least a minute (was {o.LimitRefreshInterval}).");
        if (o.PauseAtObjectionRate is <= 0 or > 1 || double.IsNaN(o.PauseAtObjectionRate))
            errors.Add($"WhatsApp:PauseAtObjectionRate must be a share greater than 0 and at most 1, e.g. 0.05 (was {o.PauseAtObjectionRate}).");
        if (o.ObjectionRateMinimum < 1) errors.Add($"WhatsApp:ObjectionRateMinimum must be at least 1 (was {o.ObjectionRateMinimum}).");
        if (o.PauseAfterFailuresInARow < 1) errors.Add($"WhatsApp:PauseAfterFailuresInARow must be at least 1 (was {o.PauseAfterFailuresInARow}).");
        if (o.DayDeferrals < 0) errors.Add($"WhatsApp:DayDeferrals must be 0 or more (was {o.DayDeferrals}).");
        if (o.UnknownErrorAttempts < 1) errors.Add($"WhatsApp:UnknownErrorAttempts must be at least 1 (was {o.UnknownErrorAttempts}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
