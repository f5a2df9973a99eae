using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Inviting;

/// <summary>Derives a contact's personal link again from the server secret (only its hash is stored) and the wa.me draft (C27).</summary>
public sealed class InvitationLinks(TokenService tokens, IOptions<AppOptions> app)
{
    public string InvitationUrl(Contact contact) =>
        app.Value.Link($"i/{tokens.Create(TokenPurpose.Invitation, contact.Id, contact.TokenGeneration)}");

    public string Message(Newsletter newsletter, Contact contact) =>
        newsletter.InvitationMessage
            .Replace("{name}", string.IsNullOrWhiteSpace(contact.DisplayName) ? "" : contact.DisplayName.Split(' ')[0])
            .Replace(" ,", ",")
            .Replace("{link}", InvitationUrl(contact));

    /// <summary>https://wa.me/&lt;digits&gt;?text=&lt;URL-encoded message&gt;: the message opens as a draft the editor sends.</summary>
    public string WhatsAppUrl(Newsletter newsletter, Contact contact, string e164) =>
        $"https://wa.me/{PhoneNormalizer.WaMeDigits(e164)}?text={Uri.EscapeDataString(Message(newsletter, contact))}";
}
