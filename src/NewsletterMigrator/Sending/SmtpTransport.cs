using System.Net.Sockets;
using System.Text.RegularExpressions;
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

    public async Task<DeliveryResult> SendAsync(MimeMessage message, MailboxAddress? envelopeSender, CancellationToken ct)
    {
        try
        {
            await EnsureConnectedAsync(ct);
            var reply = envelopeSender is null
                ? await _client.SendAsync(message, ct)
                : await _client.SendAsync(message, envelopeSender, message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes), ct);
            _sentOnConnection++;
            return DeliveryResult.Ok(string.IsNullOrEmpty(reply) ? "250 OK" : "250 " + reply);
        }
        catch (SmtpCommandException ex)
        {
            await ResetIfBrokenAsync(ex.StatusCode == SmtpStatusCode.ServiceNotAvailable);
            return Classify(ex.ErrorCode, (int)ex.StatusCode, ex.Message);
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

    private static readonly string[] RecipientCodes = ["5.1.1", "5.1.2", "5.1.3", "5.1.6"];
    private static readonly Regex EnhancedCode = new(@"\b([245]\.\d{1,3}\.\d{1,3})\b", RegexOptions.CultureInvariant);

    /// <summary>
    /// C37: only a refusal of the recipient itself at RCPT TO (5.1.1, 5.1.2, 5.1.3, 5.1.6) suppresses the
    /// address. A refusal of our side (MAIL FROM refused, 5.1.7, 5.1.8, any 5.7.x) is reported as such,
    /// so the campaign pauses instead of a misconfiguration suppressing the whole list.
    /// </summary>
    public static DeliveryResult Classify(SmtpErrorCode errorCode, int code, string text)
    {
        var reply = $"{code} {text}";
        var enhanced = EnhancedCode.Match(text) is { Success: true } m ? m.Groups[1].Value : "";
        var status = enhanced.Length > 0 ? enhanced : code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (code is >= 400 and < 500) return new DeliveryResult(DeliveryOutcome.TemporaryFailure, reply, StatusCode: status);
        var senderSide = errorCode == SmtpErrorCode.SenderNotAccepted
                         || enhanced is "5.1.7" or "5.1.8" || enhanced.StartsWith("5.7.", StringComparison.Ordinal);
        var recipient = !senderSide && errorCode == SmtpErrorCode.RecipientNotAccepted && RecipientCodes.Contains(enhanced);
        return new DeliveryResult(DeliveryOutcome.PermanentFailure, reply, recipient, senderSide, status);
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
