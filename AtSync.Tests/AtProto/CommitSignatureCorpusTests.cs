using System.Text.Json;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Identity;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

/// <summary>The 148 real relay commits against the authors' keys from <c>did_docs.json.zst</c>.</summary>
public sealed class CommitSignatureCorpusTests
{
    private static readonly Lazy<IReadOnlyList<CommitEvent>> Commits = new(() =>
        CorpusFiles.FirehoseFrames().Select(f => FrameDecoder.DecodeRepoFrame(f)).OfType<CommitEvent>().ToList());

    private static readonly Lazy<Dictionary<string, DidDocument>> Docs = new(() =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(CorpusFiles.ReadZstd("firehose", "did_docs.json.zst"))!
            .ToDictionary(kv => kv.Key, kv => DidDocument.FromJson(kv.Value)));

    [Fact]
    public void Every_corpus_commit_signature_verifies_with_its_authors_key()
    {
        var verifier = new CommitBlockVerifier(did => Docs.Value.TryGetValue(did, out var doc) ? doc.SigningKey : null);
        var commits = Commits.Value;
        Assert.Equal(148, commits.Count);

        var failures = new List<string>();
        foreach (var commit in commits)
        {
            var block = commit.ReadCommitBlock();
            Assert.Equal(commit.Repo, block.Did);
            Assert.Equal(64, block.Signature.Length);
            if (!commit.VerifySignature(verifier))
            {
                failures.Add($"{commit.Seq} {commit.Repo}");
            }
        }

        Assert.True(failures.Count == 0, "signatures not verified:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Wrong_key_high_S_and_altered_bytes_are_rejected_for_every_commit()
    {
        var commits = Commits.Value;
        var keys = commits.Select(c => Docs.Value[c.Repo].SigningKey!).ToList();
        for (var i = 0; i < commits.Count; i++)
        {
            var block = commits[i].ReadCommitBlock();
            var key = keys[i];
            var otherKey = keys.First(k => !k.Equals(key));
            Assert.True(CommitBlockVerifier.VerifyWith(block, key));
            Assert.False(CommitBlockVerifier.VerifyWith(block, otherKey), $"{commits[i].Seq}: verified with another repo's key");

            var unsigned = block.GetUnsignedBytes();
            var highS = LowS.ToHighS(key.Curve, block.Signature.Span);
            Assert.False(CommitSignatureVerifier.Instance.Verify(unsigned, highS, key), $"{commits[i].Seq}: high-S accepted");
            unsigned[i % unsigned.Length] ^= 0x01;
            Assert.False(CommitSignatureVerifier.Instance.Verify(unsigned, block.Signature.Span, key), $"{commits[i].Seq}: altered bytes accepted");
        }
    }

    [Fact]
    public void A_missing_key_fails_verification()
    {
        var verifier = new CommitBlockVerifier(_ => null);
        Assert.False(Commits.Value[0].VerifySignature(verifier));
    }

    [Fact]
    public async Task Checker_resolves_keys_from_a_loopback_plc_directory_and_verifies_every_commit()
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(CorpusFiles.ReadZstd("firehose", "did_docs.json.zst"))!;
        await using var plc = await LoopbackHttpServer.StartAsync();
        plc.Handler = (ctx, req) => raw.TryGetValue(req.Path.TrimStart('/'), out var doc)
            ? LoopbackHttpServer.Json(ctx, 200, doc.GetRawText())
            : LoopbackHttpServer.Json(ctx, 404, "{}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var checker = new RepoSignatureChecker(new DidResolver(http, new DidResolverOptions { PlcDirectory = plc.BaseUri }));

        var statuses = new List<CommitSignatureStatus>();
        foreach (var commit in Commits.Value)
        {
            var result = await checker.CheckAsync(commit.ReadCommitBlock());
            statuses.Add(result.Status);
            Assert.Equal(commit.Repo, result.Document?.Id.Value);
        }

        Assert.Equal(148, statuses.Count(s => s == CommitSignatureStatus.Valid));
        Assert.Equal(Commits.Value.Select(c => c.Repo).Distinct().Count(), plc.Requests.Count);
    }
}
