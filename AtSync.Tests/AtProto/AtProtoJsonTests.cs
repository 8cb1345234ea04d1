using System.Text.Json.Nodes;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Json;

namespace AtSync.Tests.AtProto;

public class AtProtoJsonTests
{
    [Fact]
    public void Bytes_render_as_unpadded_base64_and_parse_with_or_without_padding()
    {
        var value = DagCborValue.FromBytes(new byte[] { 0xfb, 0xff, 0x01, 0x02 });
        Assert.Equal("""{"$bytes":"+/8BAg"}""", AtProtoJson.ToJson(value));
        Assert.Equal(new byte[] { 0xfb, 0xff, 0x01, 0x02 }, AtProtoJson.FromJson("""{"$bytes":"+/8BAg"}""").AsBytes().ToArray());
        Assert.Equal(new byte[] { 0xfb, 0xff, 0x01, 0x02 }, AtProtoJson.FromJson("""{"$bytes":"+/8BAg=="}""").AsBytes().ToArray());
        Assert.Throws<DataModelException>(() => AtProtoJson.FromJson("""{"$bytes":"+/8BA"}"""));
        Assert.Throws<DataModelException>(() => AtProtoJson.FromJson("""{"$bytes":"%%%%"}"""));
    }

    [Fact]
    public void Links_render_as_dollar_link_and_non_ascii_stays_readable()
    {
        var cid = Cid.ForDagCbor([0xa0]);
        var map = DagCborValue.FromMap(DagCborMap.Create(("ref", DagCborValue.FromCid(cid)), ("text", DagCborValue.FromString("héllo 😀 <b>"))));
        var json = AtProtoJson.ToJson(map);
        Assert.StartsWith($$"""{"ref":{"$link":"{{cid}}"},"text":"héllo """, json); // BMP text and HTML characters are not escaped
        Assert.Equal("héllo 😀 <b>", JsonNode.Parse(json)!["text"]!.GetValue<string>());
        Assert.True(DagCborValue.DeepEquals(map, AtProtoJson.FromJson(json)));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1e400")]
    [InlineData("9007199254740993.0")]
    public void Non_integral_or_unsafe_numbers_are_rejected(string number)
    {
        Assert.Throws<DataModelException>(() => AtProtoJson.FromJson($$"""{"a":{{number}}}"""));
    }

    [Fact]
    public void Integers_cover_the_64_bit_range()
    {
        var value = AtProtoJson.FromJson("""{"max":9223372036854775807,"min":-9223372036854775808,"whole":2.0}""");
        var map = value.AsMap();
        Assert.True(map.TryGetInt64("max"u8, out var max) && max == long.MaxValue);
        Assert.True(map.TryGetInt64("min"u8, out var min) && min == long.MinValue);
        Assert.True(map.TryGetInt64("whole"u8, out var whole) && whole == 2);
        var back = JsonNode.Parse(AtProtoJson.ToJson(value))!;
        Assert.Equal(long.MaxValue, back["max"]!.GetValue<long>());
    }

    [Fact]
    public void Duplicate_json_keys_are_rejected()
    {
        Assert.Throws<DataModelException>(() => AtProtoJson.FromJson("""{"a":1,"a":2}"""));
        Assert.Throws<DataModelException>(() => AtProtoJson.FromJson("""{"a":"""));
    }

    [Fact]
    public void Blob_rules_apply_at_any_depth()
    {
        var cid = Cid.ForRaw("img"u8);
        var ok = AtProtoJson.FromJson($$"""{"embed":[{"$type":"blob","ref":{"$link":"{{cid}}"},"mimeType":"image/png","size":3}]}""");
        AtProtoDataModel.ValidateRecord(ok);
        var bad = AtProtoJson.FromJson($$"""{"embed":[{"$type":"blob","ref":"{{cid}}","mimeType":"image/png","size":3}]}""");
        Assert.Contains("ref", Assert.Throws<DataModelException>(() => AtProtoDataModel.ValidateRecord(bad)).Reason);
        Assert.Throws<DataModelException>(() => AtProtoDataModel.ValidateRecord(DagCborValue.FromArray([])));
    }
}
