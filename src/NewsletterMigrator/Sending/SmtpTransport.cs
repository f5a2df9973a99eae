using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Sending;

/// <summary>One reused MailKit connection (a SmtpClient is not thread-safe: one per worker slot).</summary>
public sealed class SmtpTransport(SmtpOptions options) : IMailTransport
{
    private const int RecycleAfterMessages = 500;
    private readonly SmtpClient _client = new() { Timeout = 60_000 };
    private int _sentOnConnection;

    public async Task<DeliveryResult> SendAsync(MimeMessage message, CancellationToken ct)
    {
        try
        {
            await EnsureConnectedAsync(ct);
            var reply = await _client.SendAsync(message, ct);
            _sentOnConnection++;
            return DeliveryResult.Ok(string.IsNullOrEmpty(reply) ? "250 OK" : "250 " + reply);
        }
        catch (SmtpCommandException ex)
        {
            await ResetIfBrokenAsync(ex.StatusCode == SmtpStatusCode.ServiceNotAvailable);
            var code = (int)ex.StatusCode;
            var reply = $"{code} {ex.Message}";
            if (code is >= 400 and < 500) return new DeliveryResult(DeliveryOutcome.TemporaryFailure, reply);
            var recipientRejected = ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted && IsRecipientRefusal(ex.Message, code);
            return new DeliveryResult(DeliveryOutcome.PermanentFailure, reply, recipientRejected);
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or SocketException or ServiceNotConnectedException
                                       or ServiceNotAuthenticatedException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            await ResetIfBrokenAsync(true);
            return new DeliveryResult(DeliveryOutcome.TemporaryFailure, "connection: " + ex.GetType().Name + ": " + ex.Message);
        }
        catch (AuthenticationException ex)
        {
            await ResetIfBrokenAsync(true);
            return new DeliveryResult(DeliveryOutcome.TemporaryFailure, "authentication failed: " + ex.Message);
        }
    }

    /// <summary>C37: only refusals of the recipient itself (5.1.1, 5.1.2, 5.1.3, 5.1.6, or a bare 550 at RCPT) suppress.</summary>
    private static bool IsRecipientRefusal(string reply, int code)
    {
        string[] recipientCodes = ["5.1.1", "5.1.2", "5.1.3", "5.1.6"];
        if (recipientCodes.Any(reply.Contains)) return true;
        if (reply.Contains("5.1.") || reply.Contains("5.7.")) return false;
        return code is 550 or 553;
    }

    private async Task EnsureConnectedAsync(CancellationToken ct)
    {
        if (_client.IsConnected && _sentOnConnection < RecycleAfterMessages) return;
        if (_client.IsConnected) await _client.DisconnectAsync(true, ct);

        // Nagle's algorithm stalls SMTP's small writes (~90 ms per message): connect our own socket with NoDelay.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(options.Host!, options.Port, ct);
            var security = options.Security switch
            {
                SmtpSecurity.None => SecureSocketOptions.None,
                SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.StartTls,
            };
            await _client.ConnectAsync(socket, options.Host!, options.Port, security, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (!string.IsNullOrEmpty(options.UserName)) await _client.AuthenticateAsync(options.UserName, options.Password ?? "", ct);
        _sentOnConnection = 0;
    }

    private async Task ResetIfBrokenAsync(bool force)
    {
        if (!force && _client.IsConnected) return;
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or SmtpProtocolException or ObjectDisposedException)
        {
            // The connection is gone either way; the next send reconnects.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ResetIfBrokenAsync(true);
        _client.Dispose();
    }
}
