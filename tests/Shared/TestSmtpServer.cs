using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace NewsletterMigrator.Testing;

/// <summary>
/// A real SMTP server on a loopback port (the SmtpServer package), holding every message it accepts.
/// Tests can make it refuse chosen recipients to see how the app handles 4xx and 5xx replies.
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly Store _store;

    public TestSmtpServer()
    {
        Port = FreePort();
        _store = new Store(this);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)).SessionTimeout(TimeSpan.FromMinutes(10)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_store);
        var server = new SmtpServer.SmtpServer(options, services);
        _running = server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();

    /// <summary>Recipient address → the reply to give instead of accepting (e.g. 550 5.1.1).</summary>
    public ConcurrentDictionary<string, SmtpResponse> Refuse { get; } = new(StringComparer.OrdinalIgnoreCase);

    public async Task<MimeMessage> WaitForAsync(Func<MimeMessage, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline)
        {
            var found = Messages.FirstOrDefault(match);
            if (found is not null) return found;
            await Task.Delay(50);
        }
        throw new TimeoutException($"No matching mail arrived; {Messages.Count} mail(s) received: {string.Join(", ", Messages.Select(m => m.Subject))}");
    }

    public Task<MimeMessage> WaitForAsync(string recipient, string subjectContains, TimeSpan? timeout = null) =>
        WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address.Equals(recipient, StringComparison.OrdinalIgnoreCase))
                          && (m.Subject ?? "").Contains(subjectContains, StringComparison.OrdinalIgnoreCase), timeout);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    private sealed class Store(TestSmtpServer owner) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            foreach (var to in transaction.To)
            {
                if (owner.Refuse.TryGetValue(to.AsAddress(), out var refusal)) return refusal;
            }
            await using var stream = new MemoryStream(buffer.ToArray());
            owner.Messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
