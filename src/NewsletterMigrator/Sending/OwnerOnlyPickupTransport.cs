using MimeKit;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Sending;

/// <summary>
/// The pickup folder for staff mails, written like <see cref="PickupTransport"/> but each file owner-only (0600) from
/// the moment it exists: an invitation or reset link sets a staff password, so another account on the machine must not
/// read it (the backup files are made the same way). Reader mails keep the plain pickup files, which an MTA running as
/// another user may have to read.
/// </summary>
public sealed class OwnerOnlyPickupTransport(string directory) : IMailTransport
{
    public async Task<DeliveryResult> SendAsync(MimeMessage message, MailboxAddress? envelopeSender, CancellationToken ct)
    {
        PrivateFiles.CreateDirectory(directory);
        var name = $"{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Guid.NewGuid():N}.eml";
        var temp = Path.Combine(directory, name + ".tmp");
        await using (var file = PrivateFiles.Create(temp))
            await message.WriteToAsync(file, ct);
        File.Move(temp, Path.Combine(directory, name));
        return DeliveryResult.Ok("250 written to pickup folder");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
