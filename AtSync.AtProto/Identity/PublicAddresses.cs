using System.Net;
using System.Net.Sockets;

namespace AtSync.AtProto.Identity;

/// <summary>
/// Which IP addresses identity fetches may reach: public unicast only (no loopback, private, link-local, multicast,
/// CGNAT, unspecified, benchmarking, documentation or otherwise reserved), also not when wrapped in IPv6
/// (IPv4-mapped, NAT64 <c>64:ff9b::/96</c>, 6to4 <c>2002::/16</c>).
/// </summary>
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
            return IsPublicV4(b);
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
        if (v6[..12].SequenceEqual((ReadOnlySpan<byte>)[0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return IsPublicV4(v6[12..]);
        if (v6[0] == 0x20 && v6[1] == 0x02) return IsPublicV4(v6[2..6]);
        return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || address.IsIPv6Teredo || v6[0] == 0
            || (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8)); // 2001:db8::/32 documentation
    }

    private static bool IsPublicV4(ReadOnlySpan<byte> b) =>
        !(b[0] is 0 or 10 or 127 or >= 224
          || (b[0] == 100 && b[1] is >= 64 and <= 127)
          || (b[0] == 169 && b[1] == 254)
          || (b[0] == 172 && b[1] is >= 16 and <= 31)
          || (b[0] == 192 && b[1] == 168)
          || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
          || (b[0] == 192 && b[1] == 88 && b[2] == 99)
          || (b[0] == 198 && b[1] is 18 or 19)
          || (b[0] == 198 && b[1] == 51 && b[2] == 100)
          || (b[0] == 203 && b[1] == 0 && b[2] == 113));
}
