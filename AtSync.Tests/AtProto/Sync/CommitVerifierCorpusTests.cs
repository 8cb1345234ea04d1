using System.Text.Json;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Identity;
using AtSync.AtProto.Sync;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto.Sync;

/// <summary>The 148 real relay commits of testdata/firehose: every one is signed and inverts to its <c>prevData</c>.</summary>
public sealed class CommitVerifierCorpusTests
{
    private static readonly Lazy<IReadOnlyList<CommitEvent>> Commits = new(() =>
        CorpusFiles.FirehoseFrames().Select(f => FrameDecoder.DecodeRepoFrame(f)).OfType<CommitEvent>().ToList());

    private static readonly Lazy<Dictionary<string, DidDocument>> Docs = new(() =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(CorpusFiles.ReadZstd("firehose", "did_docs.json.zst"))!
            .ToDictionary(kv => kv.Key, kv => DidDocument.FromJson(kv.Value)));

    [Fact]
    public void Every_corpus_commit_verifies_signature_and_inversion_to_prevData()
    {
        var commits = Commits.Value;
        Assert.Equal(148, commits.Count);
        Assert.Equal(148, commits.Count(c => c.PrevData is not null));
        Assert.Equal(150, commits.Sum(c => c.Ops.Count)); // 144 creates + 2 updates + 4 deletes (manifest.json)

        var failures = new List<string>();
        foreach (var commit in commits)
        {
            var verdict = CommitVerifier.Verify(commit, Docs.Value[commit.Repo].SigningKey);
            if (!verdict.IsVerified)
            {
                failures.Add($"{commit.Seq}: {verdict.Reason} {verdict.Detail}");
            }
            else
            {
                Assert.Equal(commit.Rev, verdict.State!.Rev);
                Assert.Equal(commit.ReadCommitBlock().Data, verdict.State.Data);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Corpus_commits_with_a_changed_prevData_or_a_dropped_op_are_refused()
    {
        var checkedDrops = 0;
        foreach (var commit in Commits.Value)
        {
            var otherRoot = Commits.Value.First(c => c.PrevData != commit.PrevData).PrevData;
            Assert.Equal(CommitRejection.InvertedRootMismatch, CommitVerifier.VerifyStructure(commit with { PrevData = otherRoot }).Reason);

            if (commit.Ops.Count > 0)
            {
                var dropped = commit with { Ops = commit.Ops.Skip(1).ToList() };
                Assert.Equal(CommitRejection.InvertedRootMismatch, CommitVerifier.VerifyStructure(dropped).Reason);
                checkedDrops++;
            }
        }

        Assert.True(checkedDrops >= 140);
    }

    [Fact]
    public void A_corpus_commit_checked_against_the_wrong_key_is_a_bad_signature()
    {
        var commit = Commits.Value[0];
        var other = Docs.Value[Commits.Value.First(c => c.Repo != commit.Repo).Repo].SigningKey;
        Assert.Equal(CommitRejection.BadSignature, CommitVerifier.Verify(commit, other).Reason);
        Assert.Equal(CommitRejection.BadSignature, CommitVerifier.Verify(commit, null).Reason);
    }
}
