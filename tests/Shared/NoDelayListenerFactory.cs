using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace NewsletterMigrator.Testing;

/// <summary>
/// The SmtpServer package's listener with NoDelay on every accepted socket. Without it Nagle's algorithm holds back the
/// server's small replies until the client's delayed ACK: about 20 ms per message and connection on loopback, so a test
/// sending 5,000 mails spent most of its minute waiting (35 % CPU). The client (MailKit) already sets NoDelay. Plain text
/// only: neither the tests nor the benchmarks offer STARTTLS.
/// </summary>
public sealed class NoDelayListenerFactory : IEndpointListenerFactory
{
    public IEndpointListener CreateListener(IEndpointDefinition endpoint)
    {
        var listener = new TcpListener(endpoint.Endpoint);
        listener.Start();
        return new Listener(listener);
    }

    private sealed class Listener(TcpListener listener) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var socket = await listener.AcceptSocketAsync(cancellationToken);
            socket.NoDelay = true;
            return new PlainPipe(new NetworkStream(socket, ownsSocket: true));
        }

        public void Dispose() => listener.Stop();
    }

    private sealed class PlainPipe(NetworkStream stream) : ISecurableDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream);
        public PipeWriter Output { get; } = PipeWriter.Create(stream);
        public bool IsSecure => false;
        public SslProtocols SslProtocol => SslProtocols.None;

        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("This test server does not offer TLS.");

        public void Dispose() => stream.Dispose();
    }
}
