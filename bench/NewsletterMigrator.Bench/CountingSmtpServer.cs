using System.Buffers;
using System.Net;
using System.Net.Sockets;
using SmtpServer;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Bench;

/// <summary>
/// An in-process SMTP server that accepts everything and only counts, with NoDelay on every accepted socket. With several
/// endpoints (one port per sending app instance) it also counts per port, so a run sees what each instance sent.
/// </summary>
public sealed class CountingSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly long[] _counts;
    private long _count;

    public CountingSmtpServer(int endpoints = 1)
    {
        // All probes stay open until every port is chosen, so no two endpoints get the same free port.
        var probes = Enumerable.Range(0, endpoints).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        probes.ForEach(probe => probe.Start());
        Ports = probes.Select(probe => ((IPEndPoint)probe.LocalEndpoint).Port).ToArray();
        probes.ForEach(probe => probe.Dispose());
        _counts = new long[endpoints];
        var builder = new SmtpServerOptionsBuilder().ServerName("bench");
        foreach (var port in Ports)
            builder.Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, port)).SessionTimeout(TimeSpan.FromHours(1)));
        var options = builder.Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Counter(this));
        services.Add(new NoDelayListenerFactory());
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    /// <summary>The first endpoint's port.</summary>
    public int Port => Ports[0];

    public IReadOnlyList<int> Ports { get; }

    /// <summary>Messages received on all endpoints.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Messages received on the endpoint at <see cref="Ports"/>[<paramref name="endpoint"/>].</summary>
    public long CountAt(int endpoint) => Interlocked.Read(ref _counts[endpoint]);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running; } catch (OperationCanceledException) { }
    }

    private sealed class Counter(CountingSmtpServer owner) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref owner._count);
            if (owner._counts.Length > 1)
            {
                var port = context.EndpointDefinition.Endpoint.Port;
                for (var i = 0; i < owner._counts.Length; i++)
                    if (owner.Ports[i] == port) Interlocked.Increment(ref owner._counts[i]);
            }
            else Interlocked.Increment(ref owner._counts[0]);
            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
