using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Sending;

public sealed class MailTransportFactory(IOptions<SmtpOptions> smtp, IOptions<AppOptions> app)
{
    /// <summary>Where staff mails (invitation, password reset) go without an SMTP server: a folder of their own in the pickup folder.</summary>
    public const string StaffFolder = "staff";

    public IMailTransport Create() => smtp.Value.UsesPickup
        ? new PickupTransport(PickupDirectory(smtp.Value, app.Value))
        : new SmtpTransport(smtp.Value);

    /// <summary>
    /// For staff mails: the same SMTP server, or <see cref="StaffFolder"/> inside the pickup folder. Their links set a
    /// staff password, so they stay out of reach of /dev/mail (<see cref="DevMailbox"/>), which needs no sign-in and lists
    /// only the pickup folder itself; whoever has the machine reads them in the folder, and only they (owner-only files).
    /// </summary>
    public IMailTransport CreateForStaff() => smtp.Value.UsesPickup
        ? new OwnerOnlyPickupTransport(Path.Combine(PickupDirectory(smtp.Value, app.Value), StaffFolder))
        : new SmtpTransport(smtp.Value);

    public static string PickupDirectory(SmtpOptions smtp, AppOptions app) =>
        string.IsNullOrWhiteSpace(smtp.PickupDirectory) ? Path.Combine(app.DataDirectory, "mail-pickup") : smtp.PickupDirectory;
}
