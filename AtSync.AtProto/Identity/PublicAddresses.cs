using System.Net;
using System.Net.Sockets;

namespace AtSync.AtProto.Identity;

/// <summary>Which IP addresses identity fetches may reach: public unicast only (no loopback, private, link-local, multicast, CGNAT, unspecified, reserved).</summary>
public static class PublicAddresses
{
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and <= 127)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)
                || (b[0] == 198 && b[1] is 18 or 19));
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || address.IsIPv6Teredo || v6[0] == 0);
    }
}
