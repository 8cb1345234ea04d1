using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AtSync.Testing;

/// <summary>
/// A DNS server on 127.0.0.1 (UDP, ephemeral port) speaking the RFC 1035 wire format: answers A, AAAA and TXT
/// questions for the names in <see cref="Addresses"/> and <see cref="Txt"/> (authoritative, TTL 60), NXDOMAIN for
/// other names, and records every question. Plays the DNS for handles (<c>_atproto.&lt;handle&gt;</c> TXT) and for
/// identity hosts in tests (<c>IDENTITY_DNS_SERVER</c>). Malformed queries get no answer.
/// </summary>
public sealed class LoopbackDns : IAsyncDisposable
{
    private const ushort TypeA = 1, TypeTxt = 16, TypeAaaa = 28, ClassIn = 1;
    private readonly UdpClient _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<(string Name, ushort Type)> _questions = new();

    private LoopbackDns(UdpClient socket)
    {
        _socket = socket;
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

    /// <summary><c>127.0.0.1:port</c>, as <c>IDENTITY_DNS_SERVER</c> takes it.</summary>
    public string Setting => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>Name (lowercase, no trailing dot) → its A/AAAA addresses.</summary>
    public ConcurrentDictionary<string, IPAddress[]> Addresses { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Name → its TXT records (one string each, at most 255 bytes).</summary>
    public ConcurrentDictionary<string, string[]> Txt { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every question asked, in order: the name and the type (<c>A</c>, <c>AAAA</c>, <c>TXT</c> or the number).</summary>
    public IReadOnlyList<string> Questions =>
        [.. _questions.Select(q => $"{q.Name} {q.Type switch { TypeA => "A", TypeAaaa => "AAAA", TypeTxt => "TXT", _ => q.Type.ToString(System.Globalization.CultureInfo.InvariantCulture) }}")];

    public static Task<LoopbackDns> StartAsync() =>
        Task.FromResult(new LoopbackDns(new UdpClient(new IPEndPoint(IPAddress.Loopback, 0))));

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue;
            }
            if (Answer(received.Buffer) is { } reply)
            {
                try
                {
                    await _socket.SendAsync(reply, received.RemoteEndPoint, _stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                }
            }
        }
    }

    private byte[]? Answer(byte[] query)
    {
        // Header: id, flags, qdcount, ancount, nscount, arcount; exactly one question, a query (QR = 0, opcode 0).
        if (query.Length < 12 || (query[2] & 0xF8) != 0 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1) return null;
        var at = 12;
        var labels = new List<string>();
        while (true)
        {
            if (at >= query.Length) return null;
            int length = query[at++];
            if (length == 0) break;
            if (length > 63 || at + length > query.Length) return null;
            labels.Add(Encoding.ASCII.GetString(query, at, length));
            at += length;
        }
        if (at + 4 > query.Length) return null;
        var questionEnd = at + 4;
        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(at));
        var @class = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(at + 2));
        var name = string.Join('.', labels).ToLowerInvariant();
        _questions.Enqueue((name, type));

        var answers = new List<(ushort Type, byte[] Data)>();
        var known = Addresses.ContainsKey(name) || Txt.ContainsKey(name);
        if (@class == ClassIn)
        {
            if (type is TypeA or TypeAaaa && Addresses.TryGetValue(name, out var addresses))
            {
                var family = type == TypeA ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                answers.AddRange(addresses.Where(a => a.AddressFamily == family).Select(a => (type, a.GetAddressBytes())));
            }
            if (type == TypeTxt && Txt.TryGetValue(name, out var texts))
            {
                foreach (var text in texts)
                {
                    var bytes = Encoding.UTF8.GetBytes(text);
                    answers.Add((TypeTxt, [(byte)bytes.Length, .. bytes]));
                }
            }
        }

        using var reply = new MemoryStream();
        reply.Write(query, 0, 2);
        // QR, AA, RD copied; RA; RCODE 3 (NXDOMAIN) for unknown names.
        reply.WriteByte((byte)(0x84 | (query[2] & 0x01)));
        reply.WriteByte((byte)(0x80 | (known ? 0 : 3)));
        Span<byte> counts = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(counts, 1);
        BinaryPrimitives.WriteUInt16BigEndian(counts[2..], (ushort)answers.Count);
        reply.Write(counts);
        reply.Write(query, 12, questionEnd - 12);
        var record = new byte[12];
        foreach (var (answerType, data) in answers)
        {
            BinaryPrimitives.WriteUInt16BigEndian(record, 0xC00C); // the question's name
            BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(2), answerType);
            BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(4), ClassIn);
            BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(6), 60);
            BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(10), (ushort)data.Length);
            reply.Write(record);
            reply.Write(data);
        }
        return reply.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
        _stop.Dispose();
    }
}
