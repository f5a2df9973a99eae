using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// The approved template's body parameters and what its body must say (C41). Meta fixes the body when it
/// approves the template, so the sender, the reason, the privacy link and "reply STOP" are either written
/// into it or passed as parameters; <c>WhatsApp:TemplateParameters</c> names the parameters in order.
/// </summary>
public static class WhatsAppTemplate
{
    public const string Sender = "sender";
    public const string Link = "link";
    public const string Privacy = "privacy";

    public static readonly string[] Known = [Sender, Link, Privacy];

    /// <summary>The configured names in order ("sender, link, privacy" becomes three), lower-cased.</summary>
    public static string[] Parameters(string? setting) =>
        (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.ToLowerInvariant()).ToArray();

    /// <summary>The values passed as body parameters {{1}}, {{2}} … for one reader.</summary>
    public static string[] Values(IEnumerable<string> parameters, InvitationSender sender, string link) =>
        parameters.Select(p => p switch
        {
            Sender => sender.Sender,
            Privacy => sender.PrivacyUrl,
            _ => link,
        }).ToArray();

    /// <summary>
    /// The body to submit for approval: the default invitation in the template's language, with {{n}} where a
    /// parameter goes and this newsletter's own values written in where none does. Without the reader's name:
    /// a template parameter may not be empty.
    /// </summary>
    public static string SuggestedBody(IReadOnlyList<string> parameters, Newsletter newsletter, string language)
    {
        var body = language.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? NewsletterService.DefaultInvitationEn : NewsletterService.DefaultInvitation;
        for (var i = 0; i < parameters.Count; i++) body = body.Replace("{" + parameters[i] + "}", "{{" + (i + 1) + "}}");
        return InvitationLinks.Fill(body, InvitationSender.Of(newsletter), null, "{link}");
    }
}
