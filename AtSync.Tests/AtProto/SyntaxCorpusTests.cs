using AtSync.AtProto.Syntax;

namespace AtSync.Tests.AtProto;

public sealed class SyntaxCorpusTests
{
    private static readonly Dictionary<string, Func<string, bool>> Validators = new()
    {
        ["did"] = s => Did.TryParse(s, out _),
        ["handle"] = s => Handle.TryParse(s, out _),
        ["nsid"] = s => Nsid.TryParse(s, out _),
        ["aturi"] = s => AtUri.TryParse(s, out _),
        ["tid"] = s => Tid.TryParse(s, out _),
        ["recordkey"] = s => RecordKey.TryParse(s, out _),
        ["datetime"] = s => AtDateTime.IsValid(s),
    };

    // Non-comment, non-blank lines per fixture file: guards against a reader that silently sees nothing.
    [Theory]
    [InlineData("did", true, 24)]
    [InlineData("did", false, 18)]
    [InlineData("handle", true, 71)]
    [InlineData("handle", false, 48)]
    [InlineData("nsid", true, 25)]
    [InlineData("nsid", false, 27)]
    [InlineData("aturi", true, 23)]
    [InlineData("aturi", false, 72)]
    [InlineData("tid", true, 4)]
    [InlineData("tid", false, 9)]
    [InlineData("recordkey", true, 16)]
    [InlineData("recordkey", false, 11)]
    [InlineData("datetime", true, 35)]
    [InlineData("datetime", false, 45)]
    public void Every_fixture_line_gets_the_expected_verdict(string kind, bool valid, int expectedLines)
    {
        var lines = InteropCorpus.SyntaxLines($"{kind}_syntax_{(valid ? "valid" : "invalid")}.txt");
        Assert.Equal(expectedLines, lines.Count);

        var wrong = lines.Where(l => Validators[kind](l) != valid).ToArray();

        Assert.True(wrong.Length == 0,
            $"{wrong.Length} {kind} values should be {(valid ? "accepted" : "rejected")}:\n" + string.Join("\n", wrong.Select(w => $"[{w}]")));
    }

    [Theory]
    [InlineData("did")]
    [InlineData("handle")]
    [InlineData("nsid")]
    [InlineData("aturi")]
    [InlineData("tid")]
    [InlineData("recordkey")]
    [InlineData("datetime")]
    public void Invalid_fixtures_throw_our_syntax_exception_from_Parse(string kind)
    {
        Action<string> parse = kind switch
        {
            "did" => s => Did.Parse(s),
            "handle" => s => Handle.Parse(s),
            "nsid" => s => Nsid.Parse(s),
            "aturi" => s => AtUri.Parse(s),
            "tid" => s => Tid.Parse(s),
            "recordkey" => s => RecordKey.Parse(s),
            _ => s => AtDateTime.Parse(s),
        };
        foreach (var line in InteropCorpus.SyntaxLines($"{kind}_syntax_invalid.txt"))
        {
            var ex = Assert.Throws<AtSyntaxException>(() => parse(line));
            Assert.True(ex.Message.Length < 200, "messages stay short even for 8 KiB inputs");
        }
    }
}
