using AtSync.AtProto.Cids;

namespace AtSync.AtProto.Car;

/// <summary>A CAR v1 file read from a buffer: header roots and blocks (slices of <see cref="Bytes"/>, not copies).</summary>
public sealed class CarFile
{
    private const int LinearLookupLimit = 32;
    private readonly CarBlock[] _blocks;
    private Dictionary<Cid, int>? _index;

    internal CarFile(ReadOnlyMemory<byte> bytes, Cid[] roots, CarBlock[] blocks, bool verified)
    {
        Bytes = bytes;
        Roots = roots;
        _blocks = blocks;
        BlocksVerified = verified;
    }

    /// <summary>The whole CAR as read.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    public IReadOnlyList<Cid> Roots { get; }

    /// <summary>The blocks in file order.</summary>
    public ReadOnlySpan<CarBlock> Blocks => _blocks;

    public int BlockCount => _blocks.Length;

    /// <summary>True when every block was checked against its CID while reading.</summary>
    public bool BlocksVerified { get; }

    /// <summary>Finds a block by CID (first occurrence).</summary>
    public bool TryGetBlock(Cid cid, out ReadOnlyMemory<byte> data)
    {
        var i = IndexOf(cid);
        data = i >= 0 ? _blocks[i].Data : default;
        return i >= 0;
    }

    /// <summary>Finds a block by CID or throws <see cref="CarException"/>.</summary>
    public ReadOnlyMemory<byte> GetBlock(Cid cid)
        => TryGetBlock(cid, out var data) ? data : throw new CarException($"block {cid} is not in the CAR");

    public bool Contains(Cid cid) => IndexOf(cid) >= 0;

    /// <summary>
    /// True when <paramref name="data"/> is the block of <paramref name="cid"/>: checked when the CAR was read, or
    /// hashed now when it was read without verification (each block is then checked as it is used).
    /// </summary>
    public bool IsBlockOf(Cid cid, ReadOnlySpan<byte> data) => BlocksVerified || cid.Matches(data);

    /// <summary>Finds a block by CID, checked against it (<see cref="IsBlockOf"/>); a <see cref="CarException"/> when absent or not matching.</summary>
    public ReadOnlyMemory<byte> GetCheckedBlock(Cid cid)
    {
        var data = GetBlock(cid);
        return IsBlockOf(cid, data.Span) ? data : throw new CarException($"block {cid} does not hash to its CID");
    }

    /// <summary>Hashes every block and throws <see cref="CarException"/> naming the first one that does not match its CID.</summary>
    public void VerifyAllBlocks()
    {
        for (var i = 0; i < _blocks.Length; i++)
        {
            if (!_blocks[i].Cid.Matches(_blocks[i].Data.Span))
            {
                throw new CarException($"block {i} does not hash to its CID {_blocks[i].Cid}");
            }
        }
    }

    private int IndexOf(Cid cid)
    {
        var blocks = _blocks;
        if (blocks.Length <= LinearLookupLimit)
        {
            for (var i = 0; i < blocks.Length; i++)
            {
                if (blocks[i].Cid == cid)
                {
                    return i;
                }
            }

            return -1;
        }

        var index = _index;
        if (index is null)
        {
            index = new Dictionary<Cid, int>(blocks.Length);
            for (var i = 0; i < blocks.Length; i++)
            {
                index.TryAdd(blocks[i].Cid, i);
            }

            _index = index;
        }

        return index.TryGetValue(cid, out var found) ? found : -1;
    }
}
