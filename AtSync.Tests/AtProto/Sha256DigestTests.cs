using System.Security.Cryptography;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;

namespace AtSync.Tests.AtProto;

/// <summary>The hot-path SHA-256 (libcrypto's SHA256_* where it loads) gives the platform's digest for every length.</summary>
public sealed class Sha256DigestTests
{
    [Fact]
    public void Libcrypto_is_used_on_Linux()
    {
        Assert.Equal(OperatingSystem.IsLinux() ? "libcrypto SHA256_*" : "platform SHA256", Sha256Digest.Backend);
    }

    [Fact]
    public void Every_length_up_to_several_blocks_and_past_the_no_transition_limit_matches_the_platform()
    {
        var data = RandomNumberGenerator.GetBytes(70_000);
        var ours = new byte[32];
        var lengths = Enumerable.Range(0, 300).Concat([511, 512, 1023, 1024, 1025, 4096, 65_536, 70_000]);
        foreach (var length in lengths)
        {
            Sha256Digest.Hash(data.AsSpan(0, length), ours);
            Assert.Equal(SHA256.HashData(data.AsSpan(0, length)), ours);
        }
    }

    [Fact]
    public void Known_answer_and_CIDs_built_on_it()
    {
        var digest = new byte[32];
        Sha256Digest.Hash("abc"u8, digest);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Convert.ToHexStringLower(digest));
        var block = RandomNumberGenerator.GetBytes(450);
        var cid = Cid.ForDagCbor(block);
        Assert.Equal(SHA256.HashData(block), cid.ToBytes()[4..]);
        Assert.True(cid.Matches(block));
        block[449] ^= 1;
        Assert.False(cid.Matches(block));
    }

    [Fact]
    public void Threads_hashing_at_once_each_get_their_own_digest()
    {
        var inputs = Enumerable.Range(0, 64).Select(i => RandomNumberGenerator.GetBytes(100 + (i * 37))).ToArray();
        Parallel.For(0, 2000, i =>
        {
            var input = inputs[i % inputs.Length];
            Span<byte> digest = stackalloc byte[32];
            Sha256Digest.Hash(input, digest);
            Assert.True(digest.SequenceEqual(SHA256.HashData(input)));
        });
    }

    [Fact]
    public void A_short_destination_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Sha256Digest.Hash("abc"u8, new byte[31]));
    }
}
