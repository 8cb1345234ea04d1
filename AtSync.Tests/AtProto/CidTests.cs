using AtSync.AtProto;
using AtSync.AtProto.Cids;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

public class CidTests
{
    private const string DagCborCid = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a";
    private const string RawCid = "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity";

    [Theory]
    [InlineData(DagCborCid, Cid.DagCborCodec)]
    [InlineData(RawCid, Cid.RawCodec)]
    public void Parse_then_format_round_trips(string text, byte codec)
    {
        var cid = Cid.Parse(text);
        Assert.Equal(codec, cid.Codec);
        Assert.Equal(text, cid.ToString());
        var binary = cid.ToBytes();
        Assert.Equal(36, binary.Length);
        Assert.Equal([0x01, codec, 0x12, 0x20], binary[..4]);
        Assert.Equal(cid, Cid.ReadBytes(binary));
    }

    [Fact]
    public void Compute_hashes_content_with_sha256()
    {
        var content = "hello"u8.ToArray();
        var cid = Cid.ForRaw(content);
        var digest = new byte[32];
        cid.CopyDigestTo(digest);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(content), digest);
        Assert.True(cid.Matches(content));
        Assert.False(cid.Matches("hellp"u8));
        Assert.NotEqual(cid, Cid.ForDagCbor(content));
    }

    [Fact]
    public void Equality_and_hash_follow_the_bytes()
    {
        var a = Cid.Parse(DagCborCid);
        var b = Cid.Parse(DagCborCid);
        var c = Cid.Parse(RawCid);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals(default));
        Assert.True(default(Cid).IsEmpty);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR", "CIDv0")]
    [InlineData("zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7", "multibase")]
    [InlineData("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", "codec 0x70")]
    [InlineData("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2", "59 characters")]
    [InlineData("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2b", "base32")] // non-zero trailing bits
    [InlineData("bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirZ2a", "base32")]
    [InlineData("BAFYREIDFAYVFUWQA7QLNOPDJIQRXZS6BLMOEU4RUJCJTNCI5BELUDIRZ2A", "multibase")]
    public void Strict_parse_rejects_with_a_reason(string text, string reasonFragment)
    {
        Assert.False(Cid.TryParse(text, out _, out var error));
        Assert.Contains(reasonFragment, error);
        var ex = Assert.Throws<CidFormatException>(() => Cid.Parse(text));
        Assert.IsAssignableFrom<AtProtoDataException>(ex);
    }

    [Fact]
    public void Binary_reader_rejects_v0_and_other_hashes()
    {
        Assert.Contains("CIDv0", Cid.TryReadPrefix([0x12, 0x20, .. new byte[32]], out _, out _));
        Assert.Contains("multihash", Cid.TryReadPrefix([0x01, 0x71, 0x13, 0x20, .. new byte[32]], out _, out _));
        Assert.Contains("digest length", Cid.TryReadPrefix([0x01, 0x71, 0x12, 0x10, .. new byte[32]], out _, out _));
        Assert.Contains("truncated", Cid.TryReadPrefix([0x01, 0x71, 0x12, 0x20, .. new byte[31]], out _, out _));
        Assert.Null(Cid.TryReadPrefix([0x01, 0x71, 0x12, 0x20, .. new byte[32], 0xAA], out var cid, out var consumed));
        Assert.Equal(36, consumed);
        Assert.True(cid.IsDagCbor);
    }

    public static TheoryData<string> SyntaxValid() => Lines("cid_syntax_valid.txt");

    public static TheoryData<string> SyntaxInvalid() => Lines("cid_syntax_invalid.txt");

    [Theory]
    [MemberData(nameof(SyntaxValid))]
    public void Interop_valid_cid_syntax_is_accepted(string line)
    {
        Assert.True(Cid.IsValidSyntax(line), line);

        // The syntax fixtures include CIDs AT Protocol never links to (dag-pb, base58, base64, base8, base16):
        // syntax-valid, but the strict parser for links only takes base32 CIDv1 dag-cbor/raw sha2-256.
        if (Cid.TryParse(line, out var cid, out var error))
        {
            Assert.Equal(line, cid.ToString());
        }
        else
        {
            Assert.True(line[0] != 'b' || error!.Contains("codec 0x70"), $"{line}: {error}");
        }
    }

    [Theory]
    [MemberData(nameof(SyntaxInvalid))]
    public void Interop_invalid_cid_syntax_is_rejected(string line)
    {
        Assert.False(Cid.IsValidSyntax(line), line);
        Assert.False(Cid.TryParse(line, out _), line);
    }

    [Fact]
    public void Interop_syntax_files_are_not_empty()
    {
        Assert.True(SyntaxValid().Count >= 8);
        Assert.True(SyntaxInvalid().Count >= 10);
    }

    private static TheoryData<string> Lines(string file)
    {
        var data = new TheoryData<string>();
        foreach (var line in File.ReadAllLines(CorpusFiles.Path("interop", "syntax", file)))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            data.Add(line);
        }

        return data;
    }
}
