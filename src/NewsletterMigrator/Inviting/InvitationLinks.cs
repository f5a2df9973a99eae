using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// Who an invitation comes from, as it names itself (C41): {sender} is the newsletter with its controller
/// in brackets (only the newsletter when the controller has the same name or none yet), {privacy} the notice.
/// </summary>
public sealed record InvitationSender(string Sender, string PrivacyUrl)
{
    public static InvitationSender Of(Newsletter newsletter) => Of(newsletter.Name, newsletter.ControllerName, newsletter.PrivacyNoticeUrl);

    public static InvitationSender Of(string? newsletterName, string? controllerName, string? privacyUrl)
    {
        var name = newsletterName?.Trim() ?? "";
        var controller = controllerName?.Trim() ?? "";
        var sender = controller.Length == 0 || string.Equals(controller, name, StringComparison.OrdinalIgnoreCase) ? name
            : name.Length == 0 ? controller
            : $"{name} ({controller})";
        return new InvitationSender(sender, privacyUrl?.Trim() ?? "");
    }
}

/// <summary>Derives a contact's personal link again from the server secret (only its hash is stored) and the wa.me draft (C27).</summary>
public sealed class InvitationLinks(TokenService tokens, IOptions<AppOptions> app)
{
    /// <summary>What a text must contain to name the sender, carry the link and the privacy notice (C41); {name} is optional.</summary>
    private static readonly string[] RequiredPlaceholders = ["{sender}", "{link}", "{privacy}"];

    public string InvitationUrl(Contact contact) =>
        app.Value.Link($"i/{tokens.CreateAddressed(TokenPurpose.Invitation, contact.Id, contact.TokenGeneration)}");

    /// <summary>
    /// The template in the language. English uses the English text; without one, the English default while
    /// the German text is still the default too, else the German text (an editor's own words in one language).
    /// </summary>
    public static string Template(Newsletter newsletter, string language)
    {
        if (Languages.Normalize(language) != "en") return newsletter.InvitationMessage;
        if (!string.IsNullOrWhiteSpace(newsletter.InvitationMessageEn)) return newsletter.InvitationMessageEn;
        return newsletter.InvitationMessage == NewsletterService.DefaultInvitation ? NewsletterService.DefaultInvitationEn : newsletter.InvitationMessage;
    }

    public string Message(Newsletter newsletter, Contact contact, string? language = null) =>
        Fill(Template(newsletter, language ?? newsletter.DefaultLanguage), InvitationSender.Of(newsletter), contact.DisplayName, InvitationUrl(contact));

    /// <summary>Fills {name} (first name, or nothing), {sender}, {privacy} and {link}.</summary>
    public static string Fill(string template, InvitationSender sender, string? displayName, string link) =>
        template
            .Replace("{name}", string.IsNullOrWhiteSpace(displayName) ? "" : displayName.Trim().Split(' ')[0])
            .Replace(" ,", ",")
            .Replace("{sender}", sender.Sender)
            .Replace("{privacy}", sender.PrivacyUrl)
            .Replace("{link}", link);

    /// <summary>The placeholders C41 expects ({sender}, {link}, {privacy}) that a custom text leaves out, for a warning beside it.</summary>
    public static IEnumerable<string> MissingPlaceholders(string? template) =>
        RequiredPlaceholders.Where(p => template?.Contains(p, StringComparison.Ordinal) != true);

    /// <summary>A link as long as every real one (tokens are 43 characters), for previews of the final length.</summary>
    public string SampleLink() => app.Value.Link("i/" + new string('x', 43));

    /// <summary>https://wa.me/&lt;digits&gt;?text=&lt;URL-encoded message&gt;: the message opens as a draft the editor sends.</summary>
    public string WhatsAppUrl(Newsletter newsletter, Contact contact, string e164, string? language = null) =>
        $"https://wa.me/{PhoneNormalizer.WaMeDigits(e164)}?text={Uri.EscapeDataString(Message(newsletter, contact, language))}";
}
