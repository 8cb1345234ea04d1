using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.Tests.AtProto;

public class DagCborStrictnessTests
{
    [Theory]
    [InlineData("9f01ff", "indefinite")]                       // indefinite array
    [InlineData("5f41aaff", "indefinite")]                     // indefinite byte string
    [InlineData("1805", "non-minimal")]                        // 5 encoded in two bytes
    [InlineData("190010", "non-minimal")]                      // 16 encoded in three bytes
    [InlineData("1a0000ffff", "non-minimal")]
    [InlineData("1b00000000ffffffff", "non-minimal")]
    [InlineData("7800", "non-minimal")]                        // empty string with a 1-byte length
    [InlineData("a10102", "map keys must be strings")]
    [InlineData("a2626262016161 02", "canonical order")]       // {"bb":1,"a":2}
    [InlineData("a2616201616102", "canonical order")]          // {"b":1,"a":2}
    [InlineData("a2616101616102", "duplicate map key")]
    [InlineData("fb3ff0000000000000", "floats are not allowed")]
    [InlineData("fb7ff8000000000000", "NaN")]
    [InlineData("fb7ff0000000000000", "NaN and infinite")]
    [InlineData("f93c00", "64-bit")]
    [InlineData("fa3f800000", "64-bit")]
    [InlineData("c100", "tag 1")]
    [InlineData("d82a01", "expected byte string")]
    [InlineData("d82a4101", "0x00 multibase")]
    [InlineData("f7", "undefined")]
    [InlineData("f0", "simple value")]
    [InlineData("f820", "simple value")]
    [InlineData("ff", "break")]
    [InlineData("0101", "trailing")]
    [InlineData("5affffffff00", "exceeds the remaining input")]
    [InlineData("9bffffffffffffffff", "exceeds the remaining input")]
    [InlineData("bbffffffffffffffff", "exceeds the remaining input")]
    [InlineData("62c328", "UTF-8")]
    [InlineData("1bffffffffffffffff", "64-bit signed")]
    [InlineData("", "end of input")]
    [InlineData("82 01", "exceeds the remaining input")]
    [InlineData("a16161", "end of input")]
    [InlineData("1c", "reserved")]
    public void Rejects_non_strict_input(string hex, string reasonFragment)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", ""));
        var ex = Assert.Throws<DagCborException>(() => DagCborReader.Decode(bytes));
        Assert.Contains(reasonFragment, ex.Reason);
        Assert.Throws<DagCborException>(() => DagCborReader.Validate(bytes));
        Assert.False(DagCborReader.TryValidate(bytes, out var error));
        Assert.Contains(reasonFragment, error.Reason);
        Assert.False(DagCborReader.TryDecode(bytes, out _, out _));
    }

    [Fact]
    public void Floats_are_accepted_when_allowed_but_never_NaN()
    {
        var options = DagCborOptions.Default with { AllowFloats = true };
        var value = DagCborReader.Decode(Convert.FromHexString("fb3ff8000000000000"), options);
        Assert.Equal(1.5, value.AsDouble());
        Assert.Throws<DagCborException>(() => DagCborReader.Decode(Convert.FromHexString("fb7ff8000000000000"), options));
        Assert.Equal(Convert.FromHexString("fb3ff8000000000000"), DagCborWriter.Encode(value));
    }

    [Fact]
    public void Error_reports_the_offset_of_the_problem()
    {
        // {"a": [1, 2, 0x18 0x01]} — the non-minimal integer starts at offset 6.
        var ex = Assert.Throws<DagCborException>(() => DagCborReader.Decode(Convert.FromHexString("a16161830102 1801".Replace(" ", ""))));
        Assert.Equal(6, ex.Offset);
        Assert.Contains("offset 6", ex.Message);
    }

    [Fact]
    public void Depth_limit_is_enforced()
    {
        var ok = Enumerable.Repeat((byte)0x81, 64).Append((byte)0x01).ToArray();
        Assert.Equal(DagCborKind.Array, DagCborReader.Decode(ok).Kind);
        var deep = Enumerable.Repeat((byte)0x81, 65).Append((byte)0x01).ToArray();
        var ex = Assert.Throws<DagCborException>(() => DagCborReader.Decode(deep));
        Assert.Contains("nesting", ex.Reason);
        Assert.Throws<DagCborException>(() => DagCborReader.Decode(ok, DagCborOptions.Default with { MaxDepth = 10 }));
    }

    [Fact]
    public void Item_length_limit_is_enforced_before_allocating()
    {
        var bytes = new byte[] { 0x59, 0x01, 0x00 }.Concat(new byte[256]).ToArray();
        Assert.Equal(256, DagCborReader.Decode(bytes).AsBytes().Length);
        var ex = Assert.Throws<DagCborException>(() => DagCborReader.Decode(bytes, DagCborOptions.Default with { MaxItemLength = 255 }));
        Assert.Contains("limit", ex.Reason);
    }

    [Fact]
    public void Decoded_values_reference_the_input_without_copying()
    {
        var bytes = Convert.FromHexString("a2616163616263616282f5f6");
        var value = DagCborReader.Decode(bytes);
        var map = value.AsMap();
        Assert.True(map.TryGetValue("a"u8, out var a));
        Assert.Equal("abc", a.AsString());
        bytes[5] = (byte)'x'; // mutate the input: the value sees it
        Assert.Equal("axc", a.AsString());
        Assert.True(map.TryGetValue("b", out var b));
        Assert.True(b.AsArray()[0].AsBoolean());
        Assert.True(b.AsArray()[1].IsNull);
        Assert.False(map.ContainsKey("c"u8));
    }

    [Fact]
    public void Writer_produces_minimal_headers_and_canonical_maps()
    {
        var map = DagCborMap.Create(
            ("bb", DagCborValue.FromInt64(-1)),
            ("a", DagCborValue.FromInt64(23)),
            ("ccc", DagCborValue.FromInt64(24)),
            ("c", DagCborValue.FromInt64(-25)),
            ("d", DagCborValue.FromInt64(65536)),
            ("e", DagCborValue.FromInt64(long.MinValue)));
        var bytes = DagCborWriter.Encode(DagCborValue.FromMap(map));
        Assert.Equal(
            "a6" + "6161" + "17" + "6163" + "3818" + "6164" + "1a00010000" + "6165" + "3b7fffffffffffffff" + "626262" + "20" + "63636363" + "1818",
            Convert.ToHexString(bytes).ToLowerInvariant());
        Assert.True(DagCborValue.DeepEquals(DagCborValue.FromMap(map), DagCborReader.Decode(bytes)));
        Assert.Throws<ArgumentException>(() => DagCborMap.Create(("a", DagCborValue.Null), ("a", DagCborValue.Null)));
    }

    [Fact]
    public void Typed_reader_walks_fields_and_checks_key_order()
    {
        var cid = Cid.ForDagCbor([0xa0]);
        var writer = new DagCborWriter();
        writer.WriteStartMap(3);
        writer.WriteString("n");
        writer.WriteInt64(-7);
        writer.WriteString("id");
        writer.WriteCid(cid);
        writer.WriteString("raw");
        writer.WriteBytes([1, 2, 3]);
        var bytes = writer.ToArray();

        var reader = new DagCborReader(bytes);
        var count = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        Assert.Equal(3, count);
        Assert.True(reader.ReadMapKey(ref order).SequenceEqual("n"u8));
        Assert.Equal(-7, reader.ReadInt64());
        Assert.True(reader.ReadMapKey(ref order).SequenceEqual("id"u8));
        Assert.Equal(cid, reader.ReadCid());
        Assert.True(reader.ReadMapKey(ref order).SequenceEqual("raw"u8));
        Assert.Equal([1, 2, 3], reader.ReadBytes().ToArray());
        reader.EnsureEnd();
    }
}
