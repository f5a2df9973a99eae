using MimeKit;

namespace NewsletterMigrator.Sending;

public enum DeliveryOutcome { Sent, TemporaryFailure, PermanentFailure }

/// <summary>
/// The result of one delivery attempt, with the server's reply (redacted before it is stored).
/// <see cref="RecipientRejected"/>: the address itself was refused (C37, suppress it);
/// <see cref="SenderRejected"/>: our side was refused (pause the campaign, never suppress).
/// </summary>
/// <see cref="StatusCode"/>: the enhanced status code of a refusal (5.1.1), else its basic code (550).
public sealed record DeliveryResult(DeliveryOutcome Outcome, string Reply, bool RecipientRejected = false, bool SenderRejected = false, string? StatusCode = null)
{
    public static DeliveryResult Ok(string reply) => new(DeliveryOutcome.Sent, reply);
}

/// <summary>Delivers one message. Implementations are used by one worker slot at a time.</summary>
public interface IMailTransport : IAsyncDisposable
{
    /// <param name="envelopeSender">
    /// The SMTP envelope sender (MAIL FROM), where bounces go: a reader's mail carries its VERP return path. Null: the
    /// From address, as MailKit does by default. Only the envelope: the headers (and so the DKIM signature) stay as built.
    /// </param>
    Task<DeliveryResult> SendAsync(MimeMessage message, MailboxAddress? envelopeSender, CancellationToken ct);

    Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct) => SendAsync(message, envelopeSender: null, ct);
}

/// <summary>Without an SMTP server every mail becomes an .eml file, so the app works on a fresh machine.</summary>
/// A file has no envelope, so the envelope sender is dropped.
public sealed class PickupTransport(string directory) : IMailTransport
{
    public async Task<DeliveryResult> SendAsync(MimeMessage message, MailboxAddress? envelopeSender, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var name = $"{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Guid.NewGuid():N}.eml";
        var temp = Path.Combine(directory, name + ".tmp");
        await message.WriteToAsync(temp, ct);
        File.Move(temp, Path.Combine(directory, name));
        return DeliveryResult.Ok("250 written to pickup folder");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
