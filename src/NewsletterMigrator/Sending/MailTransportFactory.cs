using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Sending;

public sealed class MailTransportFactory(IOptions<SmtpOptions> smtp, IOptions<AppOptions> app)
{
    public IMailTransport Create() => smtp.Value.UsesPickup
        ? new PickupTransport(PickupDirectory(smtp.Value, app.Value))
        : new SmtpTransport(smtp.Value);

    public static string PickupDirectory(SmtpOptions smtp, AppOptions app) =>
        string.IsNullOrWhiteSpace(smtp.PickupDirectory) ? Path.Combine(app.DataDirectory, "mail-pickup") : smtp.PickupDirectory;
}
