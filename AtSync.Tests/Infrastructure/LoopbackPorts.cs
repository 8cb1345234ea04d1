using System.Net;
using System.Net.Sockets;

namespace AtSync.Tests.Infrastructure;

/// <summary>
/// Free loopback ports for servers that a test starts as other processes (services, MariaDB), which bind the port
/// themselves some time after it is chosen. A port the kernel hands out for port 0 comes from the ephemeral range, where
/// any outgoing connection made meanwhile may take it ("address already in use"); these come from below that range,
/// in a block chosen per test process, each handed out once, and checked free when handed out.
/// </summary>
public static class LoopbackPorts
{
    private const int First = 20000;
    private const int BlockSize = 2000;
    private const int Blocks = 6; // 20000-31999: below Linux's default ephemeral range (32768-60999)
    private static int _next = First + Environment.ProcessId % Blocks * BlockSize + Random.Shared.Next(BlockSize / 2);

    /// <summary>A loopback port no other caller of this process was given, free at the time of the call.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < BlockSize; attempt++)
        {
            var port = Interlocked.Increment(ref _next);
            if (port >= First + Blocks * BlockSize)
            {
                Interlocked.CompareExchange(ref _next, First, port);
                continue;
            }
            if (IsFree(port)) return port;
        }
        throw new InvalidOperationException($"No free loopback port between {First} and {First + Blocks * BlockSize}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
