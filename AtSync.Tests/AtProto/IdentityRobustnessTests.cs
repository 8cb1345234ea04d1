using System.Text;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Syntax;

namespace AtSync.Tests.AtProto;

/// <summary>Corrupted keys, documents and identifiers give our own errors (or a clean parse), never a crash.</summary>
public sealed class IdentityRobustnessTests
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl:%#/ .-_~";

    [Fact]
    public void Every_single_character_change_and_truncation_of_corpus_keys_is_handled()
    {
        var keys = DidDocumentTests.CorpusDidDocs().Values
            .Select(d => d.GetProperty("verificationMethod")[0].GetProperty("publicKeyMultibase").GetString()!)
            .Take(20).ToList();
        var rng = new Random(3);
        int parsed = 0, refused = 0;
        foreach (var key in keys)
        {
            var variants = new List<string>();
            for (var i = 0; i <= key.Length; i++)
            {
                variants.Add(key[..i]);
            }
            for (var i = 0; i < key.Length; i++)
            {
                variants.Add(key[..i] + Alphabet[rng.Next(Alphabet.Length)] + key[(i + 1)..]);
            }
            foreach (var variant in variants)
            {
                try
                {
                    var parsedKey = PublicKey.ParseMultikey(variant);
                    Assert.Equal(variant, parsedKey.ToMultikey()); // anything accepted is canonical
                    parsed++;
                }
                catch (KeyFormatException)
                {
                    refused++;
                }
            }
        }
        Assert.True(parsed >= keys.Count, "the unmodified keys parse");
        Assert.True(refused > keys.Count * 40, $"only {refused} refusals");
    }

    [Fact]
    public void Every_truncation_and_sampled_byte_corruption_of_a_corpus_document_is_handled()
    {
        var json = Encoding.UTF8.GetBytes(DidDocumentTests.CorpusDidDocs().Values.First().GetRawText());
        var rng = new Random(5);
        int ok = 0, refused = 0;
        void Try(byte[] bytes)
        {
            try
            {
                DidDocument.Parse(bytes);
                ok++;
            }
            catch (DidDocumentException)
            {
                refused++;
            }
        }
        for (var i = 0; i < json.Length; i++)
        {
            Try(json[..i]);
        }
        for (var i = 0; i < 2000; i++)
        {
            var copy = (byte[])json.Clone();
            copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
            Try(copy);
        }
        Assert.True(refused >= json.Length, $"{refused} refused, {ok} parsed");
        Assert.True(ok > 0);
    }

    [Fact]
    public void Random_strings_never_throw_from_TryParse()
    {
        var rng = new Random(11);
        const string chars = "abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789.:/%-_~#@!$&'()*+,;= \u00e9\U0001F4A9";
        var seeds = new[] { "did:plc:", "at://", "did:web:", "com.atproto.", "3jzfcijpj2z2a", "1985-04-12T23:20:50" };
        for (var i = 0; i < 20_000; i++)
        {
            var sb = new StringBuilder(seeds[rng.Next(seeds.Length)]);
            var n = rng.Next(0, 40);
            for (var j = 0; j < n; j++)
            {
                sb.Append(chars[rng.Next(chars.Length)]);
            }
            var s = sb.ToString();
            _ = Did.TryParse(s, out _);
            _ = Handle.TryParse(s, out _);
            _ = Nsid.TryParse(s, out _);
            _ = AtUri.TryParse(s, out _);
            _ = Tid.TryParse(s, out _);
            _ = RecordKey.TryParse(s, out _);
            _ = AtDateTime.TryParse(s, out _);
            _ = PublicKey.TryParseDidKey(s, out _);
        }
    }
}
