using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Sync;

namespace AtSync.Tests.AtProto.Sync;

/// <summary>getRepo CARs and getRecord proofs from a generated repository: verified reads, and refusals by reason.</summary>
public sealed class RepositoryImportTests
{
    private const string Posts = "net.vza.forum.post";
    private const string Boards = "net.vza.forum.board";
    private static readonly HashSet<string> Forum = [Posts, Boards];

    private static TestRepository Build(int posts)
    {
        var repo = new TestRepository();
        for (var i = 0; i < posts; i++)
        {
            repo.Put($"{Posts}/3l{i:D11}", $"post {i}");
        }

        repo.Put($"{Boards}/general", "General");
        for (var i = 0; i < 50; i++)
        {
            repo.Put($"app.bsky.feed.like/3m{i:D11}", $"like {i}");
        }

        return repo;
    }

    [Fact]
    public void A_repository_of_thousands_of_records_yields_its_forum_records_in_order()
    {
        using var repo = Build(3000);
        var car = repo.ExportCar();
        Assert.Equal(RepoRejection.None, RepositoryCar.TryRead(car, repo.Did, repo.Key.PublicKey, out var read));
        Assert.Equal(3051, read!.RecordCount);
        Assert.Equal(repo.Rev, read.Rev);
        Assert.Equal(repo.Data, read.Data);

        var records = read.Records(Forum).ToList();
        Assert.Equal(3001, records.Count);
        Assert.Equal(records.Select(r => r.Path).Order(StringComparer.Ordinal), records.Select(r => r.Path));
        Assert.All(records, r => Assert.Equal(repo.Tree.Get(r.Path), r.Cid));
        var post = records.Single(r => r.RecordKey == "3l00000001234");
        Assert.Equal(Posts, post.Collection);
        Assert.True(post.Value.AsMap().TryGetString("text"u8, out var text));
        Assert.Equal("post 1234", text);
        Assert.Equal(3051, read.Records().Count());
    }

    [Fact]
    public void Every_truncation_of_the_car_is_refused()
    {
        using var repo = Build(40);
        var car = repo.ExportCar();
        for (var cut = 1; cut < car.Length; cut += 7)
        {
            var rejection = RepositoryCar.TryRead(car.AsMemory(0, cut), repo.Did, repo.Key.PublicKey, out var read);
            Assert.True(rejection != RepoRejection.None, $"a CAR cut at {cut} of {car.Length} bytes was accepted");
            Assert.Null(read);
        }
    }

    [Fact]
    public void Missing_tree_nodes_and_records_are_missing_blocks()
    {
        using var repo = Build(300);
        var file = CarReader.Read(repo.ExportCar(), new CarReadOptions { MaxCarLength = int.MaxValue });
        var blocks = file.Blocks.ToArray();
        var nodes = repo.Tree.Blocks().Select(b => b.Cid).ToHashSet();
        var withoutNode = blocks.Where(b => b.Cid != nodes.Last()).ToList();
        Assert.Equal(RepoRejection.MissingBlock, RepositoryCar.TryRead(CarWriter.Write(file.Roots, withoutNode), repo.Did, repo.Key.PublicKey, out _));

        var withoutRecord = blocks.Take(blocks.Length - 1).ToList();
        Assert.Equal(RepoRejection.MissingBlock, RepositoryCar.TryRead(CarWriter.Write(file.Roots, withoutRecord), repo.Did, repo.Key.PublicKey, out _));
    }

    [Fact]
    public void Tampered_blocks_wrong_keys_and_oversized_cars_are_refused()
    {
        using var repo = Build(100);
        var car = repo.ExportCar();
        var tampered = (byte[])car.Clone();
        tampered[^3] ^= 0x20;
        Assert.Equal(RepoRejection.BlockHashMismatch, RepositoryCar.TryRead(tampered, repo.Did, repo.Key.PublicKey, out _));

        using var stranger = SigningKey.Generate(KeyCurve.Secp256k1);
        Assert.Equal(RepoRejection.BadSignature, RepositoryCar.TryRead(car, repo.Did, stranger.PublicKey, out _));
        Assert.Equal(RepoRejection.BadSignature, RepositoryCar.TryRead(car, repo.Did, null, out _));
        Assert.Equal(RepoRejection.CommitMismatch, RepositoryCar.TryRead(car, "did:plc:someoneelse000000000000", repo.Key.PublicKey, out _));
        Assert.Equal(RepoRejection.TooLarge, RepositoryCar.TryRead(car, repo.Did, repo.Key.PublicKey, out _, new RepoReadOptions { MaxCarLength = car.Length - 1 }));
        Assert.Equal(RepoRejection.TooLarge, RepositoryCar.TryRead(car, repo.Did, repo.Key.PublicKey, out _, new RepoReadOptions { MaxBlocks = 10 }));
        Assert.Equal(RepoRejection.MalformedCar, RepositoryCar.TryRead(new byte[] { 0x05, 1, 2, 3 }, repo.Did, repo.Key.PublicKey, out _));
    }

    [Fact]
    public void A_record_whose_block_is_not_dag_cbor_is_refused()
    {
        using var repo = Build(10);
        var junk = new byte[] { 0xa1, 0x61, 0x61, 0xff };
        var junkCid = Cid.ForDagCbor(junk);
        repo.Tree.Insert($"{Posts}/3ljunk", junkCid);
        var file = CarReader.Read(repo.ExportCarWith(new CarBlock(junkCid, junk)));
        Assert.Equal(RepoRejection.MalformedRecord, RepositoryCar.TryRead(file.Bytes, repo.Did, repo.Key.PublicKey, out _));
    }

    [Fact]
    public void A_record_proof_proves_the_cid_or_the_absence()
    {
        using var repo = Build(500);
        const string rkey = "3l00000000321";
        var path = $"{Posts}/{rkey}";
        var cid = repo.Tree.Get(path)!.Value;
        var proof = Proof(repo, path, cid);

        var result = RecordProof.Verify(proof, repo.Did, repo.Key.PublicKey, Posts, rkey, cid);
        Assert.True(result.IsVerified);
        Assert.Equal(cid, result.RecordCid);
        Assert.Equal(repo.Rev, result.Rev);
        Assert.True(result.Record!.Value.AsMap().TryGetString("text"u8, out var text));
        Assert.Equal("post 321", text);

        var other = repo.Tree.Get($"{Posts}/3l00000000322")!.Value;
        Assert.Equal(RepoRejection.UnexpectedValue, RecordProof.Verify(proof, repo.Did, repo.Key.PublicKey, Posts, rkey, other).Reason);

        var absenceProof = Proof(repo, $"{Posts}/3lnothere", null);
        var absent = RecordProof.Verify(absenceProof, repo.Did, repo.Key.PublicKey, Posts, "3lnothere");
        Assert.True(absent.ProvesAbsence);
        Assert.Equal(RepoRejection.UnexpectedValue, RecordProof.Verify(absenceProof, repo.Did, repo.Key.PublicKey, Posts, "3lnothere", cid).Reason);
    }

    [Fact]
    public void A_record_proof_without_its_path_or_signature_is_refused()
    {
        using var repo = Build(500);
        const string rkey = "3l00000000321";
        var path = $"{Posts}/{rkey}";
        var cid = repo.Tree.Get(path)!.Value;
        var (commitCid, commitBytes) = repo.SignCommit(repo.Data, repo.Rev, repo.Key);
        var pathNodes = repo.Tree.ProofBlocks(path);
        Assert.True(pathNodes.Count > 1);
        var gap = CarWriter.Write([commitCid], [new CarBlock(commitCid, commitBytes), .. pathNodes.Take(pathNodes.Count - 1), new CarBlock(cid, repo.RecordBytes(cid))]);
        Assert.Equal(RepoRejection.MissingBlock, RecordProof.Verify(gap, repo.Did, repo.Key.PublicKey, Posts, rkey, cid).Reason);

        var noRecord = CarWriter.Write([commitCid], [new CarBlock(commitCid, commitBytes), .. pathNodes]);
        Assert.Equal(RepoRejection.MissingBlock, RecordProof.Verify(noRecord, repo.Did, repo.Key.PublicKey, Posts, rkey, cid).Reason);

        using var stranger = SigningKey.Generate(KeyCurve.Secp256k1);
        Assert.Equal(RepoRejection.BadSignature, RecordProof.Verify(Proof(repo, path, cid), repo.Did, stranger.PublicKey, Posts, rkey, cid).Reason);
    }

    private static byte[] Proof(TestRepository repo, string path, Cid? record)
    {
        var (commitCid, commitBytes) = repo.SignCommit(repo.Data, repo.Rev, repo.Key);
        var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
        blocks.AddRange(repo.Tree.ProofBlocks(path));
        if (record is { } r)
        {
            blocks.Add(new CarBlock(r, repo.RecordBytes(r)));
        }

        return CarWriter.Write([commitCid], blocks);
    }
}
