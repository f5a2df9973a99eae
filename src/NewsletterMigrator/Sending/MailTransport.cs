using MimeKit;

namespace NewsletterMigrator.Sending;

public enum DeliveryOutcome { Sent, TemporaryFailure, PermanentFailure }

/// <summary>
/// The result of one delivery attempt, with the server's reply (redacted before it is stored).
/// <see cref="RecipientRejected"/>: the address itself was refused (C37, suppress it);
/// <see cref="SenderRejected"/>: our side was refused (pause the campaign, never suppress).
/// </summary>
public sealed record DeliveryResult(DeliveryOutcome Outcome, string Reply, bool RecipientRejected = false, bool SenderRejected = false)
{
    public static DeliveryResult Ok(string reply) => new(DeliveryOutcome.Sent, reply);
}

/// <summary>Delivers one message. Implementations are used by one worker slot at a time.</summary>
public interface IMailTransport : IAsyncDisposable
{
    Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct);
}

/// <summary>Without an SMTP server every mail becomes an .eml file, so the app works on a fresh machine.</summary>
public sealed class PickupTransport(string directory) : IMailTransport
{
    public async Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct)
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
