using System.Net;
using System.Net.Sockets;

namespace NewsletterMigrator.Common;

/// <summary>
/// Who counts as one client for a per-IP limit (sign-up C31, staff sign-in): the IPv4 address, or the
/// /64 network of an IPv6 address, because one household or phone gets a whole /64. The address is the
/// one the app sees after the forwarded headers of a configured proxy.
/// </summary>
public static class ClientNetwork
{
    public static string Key(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        return Convert.ToHexStringLower(bytes, 0, 8) + "::/64";
    }
}
