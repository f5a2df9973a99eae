using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// The VERP return path of one outbox mail (issue 16.1): <c>bounce+TOKEN@domain</c>, where TOKEN is the row id in decimal
/// followed by a truncated HMAC of it. A bounce to that address names its row without guessing, and nobody without the
/// master key can write a token for another row. Only lower-case letters and digits, because some servers fold the case
/// of the local part; the longest token (19 digits + 20) stays well under the 64 characters a local part may have.
/// </summary>
public sealed class VerpAddress(KeyRing keys, IOptions<BouncesOptions> options) : IReturnPaths
{
    // 80 bits: a forger gets one guess per mail they get into our mailbox.
    private const int MacHexLength = 20;

    /// <summary>The envelope sender for the row, or null when VERP is off (the envelope sender stays the From address).</summary>
    public MailboxAddress? For(long outboundMessageId)
    {
        var o = options.Value;
        return o.VerpEnabled ? new MailboxAddress("", $"{o.ReturnPathLocalPart}+{Token(outboundMessageId)}@{o.ReturnPathDomain!.Trim()}") : null;
    }

    public string? For(OutboundMessage row) => For(row.Id)?.Address;

    public string Token(long outboundMessageId) => outboundMessageId.ToString(System.Globalization.CultureInfo.InvariantCulture) + Mac(outboundMessageId);

    /// <summary>
    /// The outbox row a return path names, or null when it is not one of ours or its HMAC does not check. The domain
    /// is not compared: the HMAC is the proof, and a bounce to a domain changed since the mail went still counts.
    /// </summary>
    public long? TryRead(string? address)
    {
        if (string.IsNullOrWhiteSpace(address)) return null;
        var value = address.Trim().Trim('<', '>').Trim();
        var at = value.LastIndexOf('@');
        if (at <= 0) return null;
        var local = value[..at].ToLowerInvariant();
        var prefix = options.Value.ReturnPathLocalPart.ToLowerInvariant() + "+";
        if (!local.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var token = local[prefix.Length..];
        if (token.Length is <= MacHexLength or > MacHexLength + 19) return null;
        var digits = token[..^MacHexLength];
        if (!digits.All(char.IsAsciiDigit) || digits[0] == '0'
            || !long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            return null;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token[^MacHexLength..]), Encoding.ASCII.GetBytes(Mac(id))) ? id : null;
    }

    private string Mac(long id) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(keys.ReturnPathKey, Encoding.ASCII.GetBytes($"verp|{id}")))[..MacHexLength];
}
