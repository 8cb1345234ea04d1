using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.EventStream;

/// <summary>
/// A repository commit object: <c>{did, version, data, rev, prev, sig}</c>. Exposes the signature and the
/// "unsigned" bytes — the same map re-encoded canonically without <c>sig</c> — which is what the signature covers.
/// </summary>
public sealed class CommitBlock
{
    private readonly int _headerLength;
    private readonly int _sigStart;
    private readonly int _sigEnd;
    private readonly int _entries;

    private CommitBlock(
        ReadOnlyMemory<byte> bytes, string did, long version, Cid data, string rev, Cid? prev, ReadOnlyMemory<byte> signature,
        int entries, int headerLength, int sigStart, int sigEnd)
    {
        Bytes = bytes;
        Did = did;
        Version = version;
        Data = data;
        Rev = rev;
        Prev = prev;
        Signature = signature;
        _entries = entries;
        _headerLength = headerLength;
        _sigStart = sigStart;
        _sigEnd = sigEnd;
    }

    /// <summary>The encoded commit block as received.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The repository DID.</summary>
    public string Did { get; }

    /// <summary>Repo format version (3 today).</summary>
    public long Version { get; }

    /// <summary>Root of the repository's MST.</summary>
    public Cid Data { get; }

    public string Rev { get; }

    /// <summary>Previous commit (usually null in v3).</summary>
    public Cid? Prev { get; }

    /// <summary>The raw signature bytes (64-byte compact r‖s for the AT Protocol curves).</summary>
    public ReadOnlyMemory<byte> Signature { get; }

    /// <summary>Length of <see cref="CopyUnsignedBytes"/>'s output.</summary>
    public int UnsignedLength => DagCborWriter.HeaderLength((ulong)(_entries - 1)) + (_sigStart - _headerLength) + (Bytes.Length - _sigEnd);

    /// <summary>
    /// Writes the commit without <c>sig</c>, canonically encoded. The input was validated canonical, so this is
    /// the original entries minus the <c>sig</c> entry under a map header one shorter. Returns the bytes written.
    /// </summary>
    public int CopyUnsignedBytes(Span<byte> destination)
    {
        var span = Bytes.Span;
        var n = DagCborWriter.WriteHeader(destination, 5, (ulong)(_entries - 1));
        span[_headerLength.._sigStart].CopyTo(destination[n..]);
        n += _sigStart - _headerLength;
        span[_sigEnd..].CopyTo(destination[n..]);
        return n + (span.Length - _sigEnd);
    }

    public byte[] GetUnsignedBytes()
    {
        var bytes = new byte[UnsignedLength];
        CopyUnsignedBytes(bytes);
        return bytes;
    }

    /// <summary>Decodes a commit block; <see cref="AtProtoDataException"/> subtypes on bad input.</summary>
    public static CommitBlock Decode(ReadOnlyMemory<byte> block)
    {
        var reader = new DagCborReader(block);
        var entries = reader.ReadMapHeader();
        var headerLength = reader.Position;
        var order = default(MapKeyOrder);
        string? did = null, rev = null;
        long version = -1;
        Cid data = default;
        Cid? prev = null;
        ReadOnlyMemory<byte> sig = default;
        int sigStart = -1, sigEnd = -1;
        for (var i = 0; i < entries; i++)
        {
            var keyStart = reader.Position;
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual("did"u8))
            {
                did = reader.ReadString();
            }
            else if (key.SequenceEqual("rev"u8))
            {
                rev = reader.ReadString();
            }
            else if (key.SequenceEqual("sig"u8))
            {
                sigStart = keyStart;
                sig = reader.ReadBytesMemory();
                sigEnd = reader.Position;
            }
            else if (key.SequenceEqual("data"u8))
            {
                data = reader.ReadCid();
            }
            else if (key.SequenceEqual("prev"u8))
            {
                prev = reader.ReadNullableCid();
            }
            else if (key.SequenceEqual("version"u8))
            {
                version = reader.ReadInt64();
            }
            else
            {
                reader.SkipValue();
            }
        }

        reader.EnsureEnd();
        var missing = did is null ? "did" : rev is null ? "rev" : sigStart < 0 ? "sig" : data.IsEmpty ? "data" : version < 0 ? "version" : null;
        if (missing is not null)
        {
            throw new FrameFormatException($"commit object is missing '{missing}'");
        }

        return new CommitBlock(block, did!, version, data, rev!, prev, sig, entries, headerLength, sigStart, sigEnd);
    }

    /// <summary>Encodes a commit object canonically (for tests and tools); pass <paramref name="signed"/> false for the unsigned form.</summary>
    public static byte[] Encode(string did, long version, Cid data, string rev, Cid? prev, ReadOnlySpan<byte> signature, bool signed = true)
    {
        var writer = new DagCborWriter();
        writer.WriteStartMap(signed ? 6 : 5);
        writer.WriteString("did");
        writer.WriteString(did);
        writer.WriteString("rev");
        writer.WriteString(rev);
        if (signed)
        {
            writer.WriteString("sig");
            writer.WriteBytes(signature);
        }

        writer.WriteString("data");
        writer.WriteCid(data);
        writer.WriteString("prev");
        if (prev is { } p)
        {
            writer.WriteCid(p);
        }
        else
        {
            writer.WriteNull();
        }

        writer.WriteString("version");
        writer.WriteInt64(version);
        return writer.ToArray();
    }
}
