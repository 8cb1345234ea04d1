using System.Text.Json;
using System.Text.Json.Nodes;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Json;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

public class DataModelFixtureTests
{
    public static TheoryData<int> FixtureIndexes() => Indexes("data-model-fixtures.json");

    public static TheoryData<int> ValidIndexes() => Indexes("data-model-valid.json");

    public static TheoryData<int> InvalidIndexes() => Indexes("data-model-invalid.json");

    [Theory]
    [MemberData(nameof(FixtureIndexes))]
    public void Cbor_decodes_to_the_fixture_json(int index)
    {
        var fixture = Load("data-model-fixtures.json")[index]!;
        var cbor = Convert.FromBase64String(Pad(fixture["cbor_base64"]!.GetValue<string>()));
        var value = DagCborReader.Decode(cbor);
        var rendered = JsonNode.Parse(AtProtoJson.ToJsonUtf8(value));
        Assert.True(JsonNode.DeepEquals(fixture["json"], rendered), rendered!.ToJsonString());
        AtProtoDataModel.ValidateRecord(value);
    }

    [Theory]
    [MemberData(nameof(FixtureIndexes))]
    public void Json_encodes_to_the_fixture_cbor_and_cid(int index)
    {
        var fixture = Load("data-model-fixtures.json")[index]!;
        var expected = Convert.FromBase64String(Pad(fixture["cbor_base64"]!.GetValue<string>()));
        var value = AtProtoJson.FromJson(fixture["json"]!.ToJsonString());
        var bytes = DagCborWriter.Encode(value);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(bytes));
        Assert.Equal(fixture["cid"]!.GetValue<string>(), Cid.ForDagCbor(bytes).ToString());
        Assert.Equal(expected, DagCborWriter.Encode(DagCborReader.Decode(expected)));
    }

    [Theory]
    [MemberData(nameof(ValidIndexes))]
    public void Valid_data_model_cases_are_accepted(int index)
    {
        var fixture = Load("data-model-valid.json")[index]!;
        var value = AtProtoJson.FromJson(fixture["json"]!.ToJsonString());
        AtProtoDataModel.ValidateRecord(value);
        // The value survives a DAG-CBOR round trip unchanged.
        var bytes = DagCborWriter.Encode(value);
        Assert.True(DagCborValue.DeepEquals(value, DagCborReader.Decode(bytes)));
    }

    [Theory]
    [MemberData(nameof(InvalidIndexes))]
    public void Invalid_data_model_cases_are_rejected(int index)
    {
        var fixture = Load("data-model-invalid.json")[index]!;
        var note = fixture["note"]!.GetValue<string>();
        var ex = Assert.Throws<DataModelException>(() =>
        {
            var value = AtProtoJson.FromJson(fixture["json"]!.ToJsonString());
            AtProtoDataModel.ValidateRecord(value);
        });
        Assert.False(string.IsNullOrEmpty(ex.Reason), note);
    }

    [Fact]
    public void Fixture_files_hold_the_expected_number_of_cases()
    {
        Assert.Equal(3, FixtureIndexes().Count);
        Assert.Equal(5, ValidIndexes().Count);
        Assert.Equal(12, InvalidIndexes().Count);
    }

    private static JsonArray Load(string file)
        => JsonNode.Parse(CorpusFiles.ReadText("interop", "data-model", file))!.AsArray();

    private static TheoryData<int> Indexes(string file)
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Load(file).Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static string Pad(string base64) => (base64.Length % 4) switch
    {
        2 => base64 + "==",
        3 => base64 + "=",
        _ => base64,
    };
}
