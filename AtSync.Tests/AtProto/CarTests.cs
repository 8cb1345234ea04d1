using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.Tests.AtProto;

public class CarTests
{
    private static readonly byte[] BlockA = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(("a", DagCborValue.FromInt64(1)))));
    private static readonly byte[] BlockB = DagCborWriter.Encode(DagCborValue.FromString("b"));

    [Fact]
    public void Writer_output_reads_back_with_roots_and_blocks()
    {
        var a = Cid.ForDagCbor(BlockA);
        var raw = Cid.ForRaw("blob"u8);
        var car = CarWriter.Write([a], [new CarBlock(a, BlockA), new CarBlock(raw, "blob"u8.ToArray())]);
        var file = CarReader.Read(car);
        Assert.Equal([a], file.Roots);
        Assert.Equal(2, file.BlockCount);
        Assert.True(file.TryGetBlock(raw, out var blob));
        Assert.Equal("blob"u8.ToArray(), blob.ToArray());
        Assert.Equal(BlockA, file.GetBlock(a).ToArray());
        Assert.False(file.TryGetBlock(Cid.ForDagCbor(BlockB), out _));
        Assert.Throws<CarException>(() => file.GetBlock(Cid.ForDagCbor(BlockB)));
    }

    [Fact]
    public void Many_blocks_are_found_through_the_index()
    {
        var blocks = Enumerable.Range(0, 100).Select(i => DagCborWriter.Encode(DagCborValue.FromInt64(i * 1000))).ToArray();
        var file = CarReader.Read(CarWriter.WriteDagCborBlocks([], blocks));
        Assert.Empty(file.Roots);
        for (var i = 0; i < blocks.Length; i++)
        {
            Assert.Equal(blocks[i], file.GetBlock(Cid.ForDagCbor(blocks[i])).ToArray());
        }
    }

    [Fact]
    public void A_block_that_does_not_hash_to_its_cid_is_rejected_or_flagged()
    {
        var wrong = Cid.ForDagCbor(BlockB);
        var car = CarWriter.Write([wrong], [new CarBlock(wrong, BlockA)]);
        var ex = Assert.Throws<CarException>(() => CarReader.Read(car));
        Assert.Contains("does not hash", ex.Reason);

        var unverified = CarReader.Read(car, CarReadOptions.Default with { VerifyBlocks = false });
        Assert.False(unverified.BlocksVerified);
        Assert.Throws<CarException>(unverified.VerifyAllBlocks);
    }

    [Fact]
    public void Lengths_are_bounded()
    {
        var car = CarWriter.WriteDagCborBlocks([], BlockA, BlockB);
        Assert.Contains("exceeds the limit", Assert.Throws<CarException>(() => CarReader.Read(car, CarReadOptions.Default with { MaxCarLength = car.Length - 1 })).Reason);
        Assert.Contains("exceeds the limit", Assert.Throws<CarException>(() => CarReader.Read(car, CarReadOptions.Default with { MaxBlockLength = 36 })).Reason);
        Assert.Contains("more than 1 blocks", Assert.Throws<CarException>(() => CarReader.Read(car, CarReadOptions.Default with { MaxBlocks = 1 })).Reason);

        // A block length claiming more than is left.
        var header = car.AsSpan(0, car[0] + 1).ToArray();
        byte[] bogus = [.. header, 0xff, 0xff, 0x7f, 0x01];
        Assert.Contains("block", Assert.Throws<CarException>(() => CarReader.Read(bogus)).Reason);
    }

    [Theory]
    [InlineData("80 00", "not minimally encoded")]
    [InlineData("", "truncated")]
    [InlineData("05 a0", "header length")]
    [InlineData("01 a0", "no version")]
    [InlineData("10 a2 65 726f6f7473 80 67 76657273696f6e", "end of input")]
    public void Malformed_headers_are_rejected(string hex, string reasonFragment)
    {
        var ex = Assert.Throws<CarException>(() => CarReader.Read(Convert.FromHexString(hex.Replace(" ", ""))));
        Assert.Contains(reasonFragment, ex.Reason);
    }

    [Fact]
    public void Version_must_be_one_and_roots_present()
    {
        var writer = new DagCborWriter();
        writer.WriteStartMap(2);
        writer.WriteString("roots");
        writer.WriteStartArray(0);
        writer.WriteString("version");
        writer.WriteInt64(2);
        byte[] car = [(byte)writer.WrittenSpan.Length, .. writer.WrittenSpan];
        Assert.Contains("version 2", Assert.Throws<CarException>(() => CarReader.Read(car)).Reason);

        writer = new DagCborWriter();
        writer.WriteStartMap(1);
        writer.WriteString("version");
        writer.WriteInt64(1);
        car = [(byte)writer.WrittenSpan.Length, .. writer.WrittenSpan];
        Assert.Contains("no roots", Assert.Throws<CarException>(() => CarReader.Read(car)).Reason);
    }

    [Fact]
    public void Varints_round_trip_and_reject_overlong_forms()
    {
        Span<byte> buffer = stackalloc byte[10];
        foreach (var value in new ulong[] { 0, 1, 127, 128, 300, 16384, 2_000_000, long.MaxValue })
        {
            var n = Varint.Write(buffer, value);
            Assert.Equal(Varint.Length(value), n);
            Assert.Null(Varint.TryRead(buffer[..n], out var read, out var consumed));
            Assert.Equal(value, read);
            Assert.Equal(n, consumed);
        }

        Assert.NotNull(Varint.TryRead([0x81, 0x80, 0x00], out _, out _));
        Assert.NotNull(Varint.TryRead([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], out _, out _));
    }
}
