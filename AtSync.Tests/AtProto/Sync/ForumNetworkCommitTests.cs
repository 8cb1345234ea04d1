using AtSync.AtProto.Crypto;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Sync;
using AtSync.Testing.Synthetic;

namespace AtSync.Tests.AtProto.Sync;

/// <summary>Every commit the forum network generator writes is a genuine sync 1.1 commit: its ops invert to prevData.</summary>
public sealed class ForumNetworkCommitTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(11)]
    public void Every_generated_commit_verifies(int seed)
    {
        var repos = new ForumRepositories(SigningKey.Generate(KeyCurve.Secp256k1));
        var refused = new List<string>();
        foreach (var step in ForumNetwork.Generate(repos, $"at://{AtSync.Tests.Firehose.FirehoseHarness.ForumDid}/net.vza.forum.board/3kboardgeneral", 150, seed: seed))
        {
            if (FrameDecoder.DecodeRepoFrame(step.RelayFrame) is CommitEvent commit)
            {
                var verdict = CommitVerifier.VerifyStructure(commit);
                if (!verdict.IsVerified)
                {
                    refused.Add($"{step.Seq}: {verdict.Reason}");
                }
            }
        }

        Assert.Empty(refused);
    }
}
