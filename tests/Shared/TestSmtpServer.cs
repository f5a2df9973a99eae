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
/// Tests can make it misbehave the way real servers do: refuse chosen recipients at RCPT TO or at DATA
/// (4xx or 5xx), refuse the sender, drop connections, answer slowly, or be down altogether.
/// </summary>
public sealed class TestSmtpServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _stop;
    private Task _running = Task.CompletedTask;
    private int _dropNext;

    public TestSmtpServer()
    {
        // A free port can be taken by another test's server (Dovecot, a Kestrel) between choosing and binding it:
        // then choose again, until this server answers with its own greeting.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            Start();
            if (AnswersWithGreeting()) return;
            var failure = _running.Exception?.GetBaseException().Message;
            try { StopAsync().GetAwaiter().GetResult(); } catch (SocketException) { }
            if (attempt == 5) throw new InvalidOperationException($"The test SMTP server could not listen on a free port ({failure}).");
        }
    }

    private readonly ManualResetEventSlim _sessionSeen = new();

    /// <summary>True when a connection to <see cref="Port"/> reaches this server (not another test's that holds the port).</summary>
    private bool AnswersWithGreeting()
    {
        _sessionSeen.Reset();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < until && !_running.IsFaulted)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                client.ReceiveTimeout = 5000;
                using var reader = new StreamReader(client.GetStream());
                return reader.ReadLine()?.StartsWith("220 ", StringComparison.Ordinal) == true && _sessionSeen.Wait(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                Thread.Sleep(20);
            }
        }
        return false;
    }

    public int Port { get; private set; }

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();

    private readonly ConcurrentDictionary<MimeMessage, string> _envelopeSenders = new(ReferenceEqualityComparer.Instance);

    /// <summary>The envelope sender (MAIL FROM) a received message came with, where bounces go: "" for the null sender.</summary>
    public string EnvelopeSender(MimeMessage message) =>
        _envelopeSenders.TryGetValue(message, out var sender) ? sender : throw new ArgumentException("Not a message this server received.", nameof(message));

    /// <summary>Recipient address → the reply to give at the end of DATA instead of accepting (e.g. 550 5.1.1).</summary>
    public ConcurrentDictionary<string, SmtpResponse> Refuse { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Recipient address → the reply to give at RCPT TO, as a server does for an unknown mailbox.</summary>
    public ConcurrentDictionary<string, SmtpResponse> RefuseAtRcpt { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When set, every MAIL FROM gets this reply (e.g. 550 5.7.1 sender not authorised).</summary>
    public SmtpResponse? RefuseSender { get; set; }

    /// <summary>Waited before each message is answered, to play a slow server.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Recipient address → how many times a message to it reached DATA (accepted or not).</summary>
    public ConcurrentDictionary<string, int> Attempts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool IsRunning { get { lock (_gate) return _stop is not null; } }

    private int _inFlight;

    /// <summary>
    /// Waits until no message is being answered, and none has started for a moment: a client stopped mid-send may
    /// have handed over a message that the server (playing slow) records only after the client is gone.
    /// </summary>
    public async Task WaitUntilIdleAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        var quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            if (Volatile.Read(ref _inFlight) > 0) quietSince = DateTime.UtcNow;
            else if (DateTime.UtcNow - quietSince >= TimeSpan.FromMilliseconds(500)) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Volatile.Read(ref _inFlight)} message(s) still being answered");
    }

    /// <summary>The next <paramref name="count"/> messages are read and then the connection is cut without a reply.</summary>
    public void DropNext(int count) => Interlocked.Exchange(ref _dropNext, count);

    private bool TakeDrop()
    {
        int left;
        do
        {
            left = Volatile.Read(ref _dropNext);
            if (left <= 0) return false;
        } while (Interlocked.CompareExchange(ref _dropNext, left - 1, left) != left);
        return true;
    }

    public static SmtpResponse Reply(int code, string text) => new((SmtpReplyCode)code, text);

    /// <summary>Starts listening (again) on the same port.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_stop is not null) return;
            var options = new SmtpServerOptionsBuilder()
                .ServerName("localhost")
                .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)).SessionTimeout(TimeSpan.FromMinutes(10)))
                .Build();
            var services = new SmtpServer.ComponentModel.ServiceProvider();
            services.Add(new Store(this));
            services.Add(new Filter(this));
            services.Add(new NoDelayListenerFactory());
            _stop = new CancellationTokenSource();
            var server = new SmtpServer.SmtpServer(options, services);
            server.SessionCreated += (_, _) => _sessionSeen.Set();
            _running = server.StartAsync(_stop.Token);
        }
    }

    /// <summary>Goes down: stops listening and ends open sessions, so connecting is refused.</summary>
    public async Task StopAsync()
    {
        CancellationTokenSource? stop;
        Task running;
        lock (_gate)
        {
            (stop, running) = (_stop, _running);
            _stop = null;
        }
        if (stop is null) return;
        await stop.CancelAsync();
        try { await running; } catch (OperationCanceledException) { }
        stop.Dispose();
    }

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

    public async ValueTask DisposeAsync() => await StopAsync();

    private sealed class Filter(TestSmtpServer owner) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
            owner.RefuseSender is { } refusal ? throw new SmtpResponseException(refusal) : Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
            owner.RefuseAtRcpt.TryGetValue(to.AsAddress(), out var refusal) ? throw new SmtpResponseException(refusal) : Task.FromResult(true);
    }

    private sealed class Store(TestSmtpServer owner) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._inFlight);
            try { return await AnswerAsync(context, transaction, buffer, cancellationToken); }
            finally { Interlocked.Decrement(ref owner._inFlight); }
        }

        private async Task<SmtpResponse> AnswerAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            foreach (var to in transaction.To) owner.Attempts.AddOrUpdate(to.AsAddress(), 1, (_, n) => n + 1);
            if (owner.Delay > TimeSpan.Zero) await Task.Delay(owner.Delay, cancellationToken);
            if (owner.TakeDrop())
            {
                // Cut the line before the reply: the client cannot know whether the mail was taken.
                ((IDisposable)context.Pipe).Dispose();
                throw new OperationCanceledException("connection dropped by the test");
            }
            foreach (var to in transaction.To)
            {
                if (owner.Refuse.TryGetValue(to.AsAddress(), out var refusal)) return refusal;
            }
            await using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            // Recorded before the message is listed: whoever sees it can ask for its envelope.
            owner._envelopeSenders[message] = transaction.From is { User.Length: > 0 } from ? from.AsAddress() : "";
            owner.Messages.Enqueue(message);
            return SmtpResponse.Ok;
        }
    }
}
