using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin;

/// <summary>
/// The red banner of a paused WhatsApp queue (_WhatsAppPause.cshtml), on the dashboard and the WhatsApp page.
/// <paramref name="ResumeHere"/>: the page has the admin's "resume" handler; elsewhere the banner links to a WhatsApp page
/// (<paramref name="WhatsAppNewsletterId"/>), since the pause is the portfolio's, not one newsletter's.
/// </summary>
public sealed record WhatsAppPauseBanner(WhatsAppAccount Account, bool ResumeHere, int? WhatsAppNewsletterId = null);
