using System.Text.Json;
using System.Text.Json.Nodes;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;

namespace AtSync.Tests.AtProto;

public sealed class DidDocumentTests
{
    /// <summary>The 148 real PLC documents captured with the firehose corpus (DID → document).</summary>
    internal static Dictionary<string, JsonElement> CorpusDidDocs()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(InteropCorpus.Path())!, "firehose", "did_docs.json.zst");
        using var decompressor = new ZstdSharp.Decompressor();
        var json = decompressor.Unwrap(File.ReadAllBytes(path)).ToArray();
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;
    }

    [Fact]
    public void Every_corpus_document_yields_handle_pds_and_secp256k1_key()
    {
        var docs = CorpusDidDocs();
        Assert.Equal(148, docs.Count);
        foreach (var (did, json) in docs)
        {
            var doc = DidDocument.Parse(json.GetRawText());

            Assert.Equal(did, doc.Id.Value);
            var aka = json.GetProperty("alsoKnownAs")[0].GetString()!;
            Assert.Equal(aka["at://".Length..].ToLowerInvariant(), doc.Handle?.Value);
            Assert.Equal(json.GetProperty("service")[0].GetProperty("serviceEndpoint").GetString(), doc.PdsEndpoint?.ToString().TrimEnd('/'));
            Assert.NotNull(doc.SigningKey);
            Assert.Null(doc.SigningKeyProblem);
            Assert.Equal(KeyCurve.Secp256k1, doc.SigningKey.Curve);
            Assert.Equal(json.GetProperty("verificationMethod")[0].GetProperty("publicKeyMultibase").GetString(), doc.SigningKey.ToMultikey());
        }
    }

    private static string Doc(string did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz", string? methodId = "#atproto", string type = "Multikey",
        string key = "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", string serviceId = "#atproto_pds",
        string serviceType = "AtprotoPersonalDataServer", string endpoint = "https://pds.example.com", string[]? aka = null)
    {
        var root = new JsonObject
        {
            ["id"] = did,
            ["alsoKnownAs"] = new JsonArray((aka ?? ["at://alice.example.com"]).Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["service"] = new JsonArray(new JsonObject { ["id"] = serviceId, ["type"] = serviceType, ["serviceEndpoint"] = endpoint }),
        };
        if (methodId is not null)
        {
            root["verificationMethod"] = new JsonArray(
                new JsonObject { ["id"] = did + "#other", ["type"] = "Multikey", ["controller"] = did, ["publicKeyMultibase"] = "zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo" },
                new JsonObject { ["id"] = methodId, ["type"] = type, ["controller"] = did, ["publicKeyMultibase"] = key });
        }
        return root.ToJsonString();
    }

    [Theory]
    [InlineData("#atproto")]
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto")]
    public void Atproto_method_is_found_by_relative_or_absolute_id(string methodId)
    {
        var doc = DidDocument.Parse(Doc(methodId: methodId));
        Assert.Equal(PublicKey.ParseDidKey("did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"), doc.SigningKey);
        Assert.Equal("alice.example.com", doc.Handle?.Value);
        Assert.Equal(new Uri("https://pds.example.com"), doc.PdsEndpoint);
    }

    [Theory]
    [InlineData("EcdsaSecp256r1VerificationKey2019", "zxdM8dSstjrpZaRUwBmDvjGXweKuEMVN95A9oJBFjkWMh", "did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo")]
    [InlineData("EcdsaSecp256k1VerificationKey2019", "z25z9DTpsiYYJKGsWmSPJK2NFN8PcJtZig12K59UgW7q5t", "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")]
    [InlineData("EcdsaSecp256k1VerificationKey2019", "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")]
    public void Legacy_key_suites_parse(string type, string multibase, string expectedDidKey)
    {
        var doc = DidDocument.Parse(Doc(type: type, key: multibase));
        Assert.Equal(expectedDidKey, doc.SigningKey?.ToDidKey());
    }

    [Theory]
    [InlineData(null, "Multikey", "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", "no verificationMethod")]
    [InlineData("#atproto_other", "Multikey", "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", "no #atproto verification method")]
    [InlineData("#atproto", "Ed25519VerificationKey2020", "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", "unsupported type")]
    [InlineData("#atproto", "Multikey", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "Unsupported multicodec")]
    [InlineData("#atproto", "Multikey", "not-multibase", "base58btc")]
    [InlineData("#atproto", "EcdsaSecp256r1VerificationKey2019", "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", "curve")]
    public void Missing_or_bad_signing_key_leaves_the_rest_usable(string? methodId, string type, string key, string problem)
    {
        var doc = DidDocument.Parse(Doc(methodId: methodId, type: type, key: key));
        Assert.Null(doc.SigningKey);
        Assert.Contains(problem, doc.SigningKeyProblem);
        Assert.Equal("alice.example.com", doc.Handle?.Value);
        Assert.NotNull(doc.PdsEndpoint);
    }

    [Theory]
    [InlineData("#atproto_pds", "AtprotoPersonalDataServer", "ftp://pds.example.com")]
    [InlineData("#atproto_pds", "AtprotoPersonalDataServer", "https://user:pw@pds.example.com")]
    [InlineData("#atproto_pds", "SomethingElse", "https://pds.example.com")]
    [InlineData("#atproto_labeler", "AtprotoPersonalDataServer", "https://pds.example.com")]
    [InlineData("#atproto_pds", "AtprotoPersonalDataServer", "/relative")]
    public void Unusable_pds_service_gives_no_endpoint(string id, string type, string endpoint)
    {
        Assert.Null(DidDocument.Parse(Doc(serviceId: id, serviceType: type, endpoint: endpoint)).PdsEndpoint);
    }

    [Fact]
    public void Handle_is_the_first_valid_at_alias()
    {
        var doc = DidDocument.Parse(Doc(aka: ["https://alice.example.com", "at://not_a_handle", "at://Alice.Example.COM", "at://second.example.com"]));
        Assert.Equal("alice.example.com", doc.Handle?.Value);
        Assert.Equal(4, doc.AlsoKnownAs.Count);
        Assert.Null(DidDocument.Parse(Doc(aka: ["at://did:plc:abc"])).Handle);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"id":"not-a-did"}""")]
    [InlineData("""{"id":42}""")]
    [InlineData("""{"id":"did:plc:abc"} trailing""")]
    [InlineData("""{"id":"did:plc:abc","alsoKnownAs":[""")]
    public void Malformed_documents_throw_DidDocumentException(string json)
    {
        Assert.Throws<DidDocumentException>(() => DidDocument.Parse(json));
    }

    [Fact]
    public void Oversized_documents_are_refused_before_parsing()
    {
        var big = new byte[DidDocument.MaxBytes + 1];
        Assert.Throws<DidDocumentException>(() => DidDocument.Parse(big));
    }

    [Fact]
    public void Commit_verifier_uses_the_document_key()
    {
        using var signer = SigningKey.Generate(KeyCurve.Secp256k1);
        var doc = DidDocument.Parse(Doc(key: signer.PublicKey.ToMultikey()));
        var unsigned = "a3 63 64 69 64 ... unsigned commit"u8.ToArray();
        var sig = signer.Sign(unsigned);
        ICommitSignatureVerifier verifier = CommitSignatureVerifier.Instance;

        Assert.True(verifier.Verify(unsigned, sig, doc.SigningKey!));
        Assert.False(verifier.Verify(unsigned.AsSpan(1), sig, doc.SigningKey!));
        Assert.False(verifier.Verify(unsigned, LowS.ToHighS(KeyCurve.Secp256k1, sig), doc.SigningKey!));
    }
}
