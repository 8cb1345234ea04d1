using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.Car;

/// <summary>Reads CAR v1 files from a buffer: header <c>{roots, version: 1}</c>, then varint-framed (CID, data) blocks.</summary>
public static class CarReader
{
    /// <summary>Reads and (by default) verifies a whole CAR; errors are <see cref="CarException"/>s with the offset.</summary>
    public static CarFile Read(ReadOnlyMemory<byte> car, CarReadOptions? options = null)
    {
        options ??= CarReadOptions.Default;
        var span = car.Span;
        if (span.Length > options.MaxCarLength)
        {
            throw new CarException($"CAR of {span.Length} bytes exceeds the limit of {options.MaxCarLength}", 0);
        }

        var roots = ReadHeader(span, options, out var pos);
        var blocksStart = pos;

        // First pass: frame the blocks to size the array exactly.
        var count = 0;
        while (pos < span.Length)
        {
            var length = ReadSectionLength(span, ref pos, options);
            pos += length;
            if (++count > options.MaxBlocks)
            {
                throw new CarException($"more than {options.MaxBlocks} blocks", pos);
            }
        }

        var blocks = count == 0 ? [] : new CarBlock[count];
        pos = blocksStart;
        for (var i = 0; i < count; i++)
        {
            var length = ReadSectionLength(span, ref pos, options);
            var section = span.Slice(pos, length);
            var error = Cid.TryReadPrefix(section, out var cid, out var consumed);
            if (error is not null)
            {
                throw new CarException($"block {i}: {error}", pos + consumed);
            }

            var data = car.Slice(pos + consumed, length - consumed);
            if (options.VerifyBlocks && !cid.Matches(data.Span))
            {
                throw new CarException($"block {i} does not hash to its CID {cid}", pos);
            }

            blocks[i] = new CarBlock(cid, data);
            pos += length;
        }

        return new CarFile(car, roots, blocks, options.VerifyBlocks);
    }

    private static int ReadSectionLength(ReadOnlySpan<byte> span, ref int pos, CarReadOptions options)
    {
        var error = Varint.TryRead(span[pos..], out var length, out var consumed);
        if (error is not null)
        {
            throw new CarException("block length: " + error, pos);
        }

        if (length > (ulong)options.MaxBlockLength)
        {
            throw new CarException($"block of {length} bytes exceeds the limit of {options.MaxBlockLength}", pos);
        }

        if (length > (ulong)(span.Length - pos - consumed))
        {
            throw new CarException($"block of {length} bytes runs past the end of the CAR", pos);
        }

        if (length < Cid.BinaryLength)
        {
            throw new CarException($"block of {length} bytes is too short to hold a CID", pos);
        }

        pos += consumed;
        return (int)length;
    }

    private static Cid[] ReadHeader(ReadOnlySpan<byte> span, CarReadOptions options, out int end)
    {
        var error = Varint.TryRead(span, out var headerLength, out var consumed);
        if (error is not null)
        {
            throw new CarException("header length: " + error, 0);
        }

        if (headerLength == 0 || headerLength > (ulong)(span.Length - consumed))
        {
            throw new CarException($"header length {headerLength} is invalid for a CAR of {span.Length} bytes", 0);
        }

        end = consumed + (int)headerLength;
        var reader = new DagCborReader(span.Slice(consumed, (int)headerLength), options.DagCbor, consumed);
        Cid[]? roots = null;
        long version = -1;
        try
        {
            var entries = reader.ReadMapHeader();
            var order = default(MapKeyOrder);
            for (var i = 0; i < entries; i++)
            {
                var key = reader.ReadMapKey(ref order);
                if (key.SequenceEqual("roots"u8))
                {
                    var n = reader.ReadArrayHeader();
                    roots = n == 0 ? [] : new Cid[n];
                    for (var j = 0; j < n; j++)
                    {
                        roots[j] = reader.ReadCid();
                    }
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
        }
        catch (DagCborException ex)
        {
            throw new CarException("header: " + ex.Reason, ex.Offset, ex);
        }

        if (version != 1)
        {
            throw new CarException(version == -1 ? "header has no version" : $"unsupported CAR version {version}", consumed);
        }

        if (roots is null)
        {
            throw new CarException("header has no roots", consumed);
        }

        return roots;
    }
}
