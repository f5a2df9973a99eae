using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Signs every outgoing mail with DKIM when a key is configured (C24). The signed headers include
/// both List-Unsubscribe headers, so a receiver can trust the one-click unsubscribe (C21).
/// </summary>
public sealed class DkimSigning
{
    private static readonly HeaderId[] SignedHeaders =
    [
        HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId,
        HeaderId.ListUnsubscribe, HeaderId.ListUnsubscribePost, HeaderId.ListId, HeaderId.ReplyTo,
    ];

    private readonly DkimSigner? _signer;
    private readonly string? _domain;
    private readonly ILogger<DkimSigning> _logger;
    private int _misalignmentLogged;

    public DkimSigning(IOptions<DkimOptions> options, ILogger<DkimSigning> logger)
    {
        _logger = logger;
        if (!options.Value.Enabled) return;
        _signer = LoadSigner(options.Value);
        _domain = options.Value.Domain!.Trim().ToLowerInvariant();
    }

    public bool Enabled => _signer is not null;

    /// <summary>Whether the configured key signs for this sender domain (the same or a subdomain), so DMARC can align.</summary>
    public bool SignsFor(string? fromDomain)
    {
        var from = fromDomain?.ToLowerInvariant() ?? "";
        return _domain is not null && (from == _domain || from.EndsWith("." + _domain, StringComparison.Ordinal));
    }

    public static DkimSigner LoadSigner(DkimOptions options) =>
        new(options.PrivateKeyPath!, options.Domain!.Trim(), options.Selector!.Trim(), DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };

    public void Sign(MimeMessage message)
    {
        if (_signer is null) return;
        WarnOnceIfNotAligned(message);
        // The signature covers the body as it goes over the wire: fix the transfer encoding first.
        message.Prepare(EncodingConstraint.SevenBit);
        _signer.Sign(message, SignedHeaders.Where(h => message.Headers.Contains(h)).ToArray());
    }

    private void WarnOnceIfNotAligned(MimeMessage message)
    {
        var from = message.From.Mailboxes.FirstOrDefault()?.Domain;
        if (SignsFor(from)) return;
        if (Interlocked.Exchange(ref _misalignmentLogged, 1) == 0)
            _logger.LogWarning("DKIM domain {DkimDomain} is not aligned with the sender domain {FromDomain}; DMARC will not pass", _domain, from);
    }
}
