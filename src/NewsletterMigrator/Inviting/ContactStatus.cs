using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

public static class ContactStatus
{
    /// <summary>
    /// The furthest funnel step the contact reached. "Not on WhatsApp" ranks below opening the link (a reader who opened it
    /// got it some other way) and above "invited" (Meta may accept the template and report it undeliverable later).
    /// </summary>
    public static string Text(Contact c, IStringLocalizer text) =>
        c.ObjectedAtUtc is not null ? text["Contacts_Objected"]
        : c.UnsubscribedAtUtc is not null ? text["Funnel_Unsubscribed"]
        : c.ConfirmedAtUtc is not null ? text["Funnel_Confirmed"]
        : c.SignedUpAtUtc is not null ? text["Funnel_SignedUp"]
        : c.OpenedAtUtc is not null ? text["Funnel_Opened"]
        : c.NotOnWhatsAppAtUtc is not null ? text["WaScale_NotOnWhatsApp"]
        : c.InvitedAtUtc is not null ? text["Funnel_Invited"]
        : text["Funnel_Imported"];
}
