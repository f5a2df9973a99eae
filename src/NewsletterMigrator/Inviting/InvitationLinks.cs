using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Inviting;

/// <summary>Derives a contact's personal link again from the server secret (only its hash is stored) and the wa.me draft (C27).</summary>
public sealed class InvitationLinks(TokenService tokens, IOptions<AppOptions> app)
{
    public string InvitationUrl(Contact contact) =>
        app.Value.Link($"i/{tokens.CreateAddressed(TokenPurpose.Invitation, contact.Id, contact.TokenGeneration)}");

    /// <summary>The template in the language; English falls back to the German text when none is written.</summary>
    public static string Template(Newsletter newsletter, string language) =>
        Languages.Normalize(language) == "en" && !string.IsNullOrWhiteSpace(newsletter.InvitationMessageEn)
            ? newsletter.InvitationMessageEn
            : newsletter.InvitationMessage;

    public string Message(Newsletter newsletter, Contact contact, string? language = null) =>
        Fill(Template(newsletter, language ?? newsletter.DefaultLanguage), contact.DisplayName, InvitationUrl(contact));

    /// <summary>Fills {name} (first name, or nothing) and {link}.</summary>
    public static string Fill(string template, string? displayName, string link) =>
        template
            .Replace("{name}", string.IsNullOrWhiteSpace(displayName) ? "" : displayName.Trim().Split(' ')[0])
            .Replace(" ,", ",")
            .Replace("{link}", link);

    /// <summary>A link as long as every real one (tokens are 43 characters), for previews of the final length.</summary>
    public string SampleLink() => app.Value.Link("i/" + new string('x', 43));

    /// <summary>https://wa.me/&lt;digits&gt;?text=&lt;URL-encoded message&gt;: the message opens as a draft the editor sends.</summary>
    public string WhatsAppUrl(Newsletter newsletter, Contact contact, string e164, string? language = null) =>
        $"https://wa.me/{PhoneNormalizer.WaMeDigits(e164)}?text={Uri.EscapeDataString(Message(newsletter, contact, language))}";
}
