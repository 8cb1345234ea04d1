using System.Text.Json;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Json;
using AtSync.AtProto.Mst;
using AtSync.AtProto.Syntax;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Testing.Synthetic;

/// <summary>
/// Authors' repositories, built with the project's own MST, DAG-CBOR, CAR and commit writers and signed with one key:
/// each commit gives the relay's <c>#commit</c> frame (sync 1.1: <c>prevData</c>, ops with <c>prev</c>, the commit, every
/// tree node and the new records), the events Jetstream v1 makes of it (one JSON object per op, as production serves
/// them: <c>testdata/firehose/expected_v1.jsonl</c>), and afterwards the repository answers <c>getRecord</c>
/// (<see cref="RecordCar"/>: the signed head commit, the MST path to the key, the record) as a PDS does.
/// </summary>
public sealed class ForumRepositories(SigningKey key)
{
    private readonly Dictionary<string, Repository> _repos = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public SigningKey Key => key;

    /// <summary>One commit as the relay and Jetstream serve it.</summary>
    public sealed record Written(long Seq, long TimeUs, string Did, byte[] RelayFrame, IReadOnlyList<byte[]> JetstreamEvents, IReadOnlyList<string?> Cids);

    private sealed class Repository
    {
        public MstTree Tree { get; } = MstTree.Create();
        public Dictionary<Cid, byte[]> Records { get; } = [];
        public string Rev { get; set; } = "";
        public long Clock { get; set; }
    }

    /// <summary>
    /// Applies <paramref name="changes"/> (path → DAG-CBOR record, or null to delete) to <paramref name="did"/>'s repository
    /// at <paramref name="time"/> and signs the commit.
    /// </summary>
    public Written Commit(long seq, string did, DateTimeOffset time, params (string Path, byte[]? Record)[] changes)
    {
        lock (_lock)
        {
            if (!_repos.TryGetValue(did, out var repo)) _repos[did] = repo = new Repository();
            var prevData = repo.Tree.RootCid();
            var since = repo.Rev.Length == 0 ? null : repo.Rev;
            var ops = new List<Wire.RepoOp>();
            var added = new List<CarBlock>();
            foreach (var (path, record) in changes)
            {
                if (record is null)
                {
                    var prev = repo.Tree.Remove(path) ?? throw new InvalidOperationException($"{path} is not in {did}'s repository");
                    ops.Add(new Wire.RepoOp(Wire.RepoAction.Delete, path, null, prev));
                    continue;
                }
                var cid = Cid.ForDagCbor(record);
                repo.Records[cid] = record;
                added.Add(new CarBlock(cid, record));
                var previous = repo.Tree.Insert(path, cid);
                ops.Add(new Wire.RepoOp(previous is null ? Wire.RepoAction.Create : Wire.RepoAction.Update, path, cid, previous));
            }
            var timeUs = time.ToUnixTimeMilliseconds() * 1000 + (time.Ticks / 10 % 1000);
            repo.Clock = Math.Max(repo.Clock + 1, timeUs);
            repo.Rev = Tid.FromParts(repo.Clock, 0).ToString();
            var (commitCid, commitBytes) = SignedHead(did, repo);
            var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
            blocks.AddRange(repo.Tree.Blocks());
            blocks.AddRange(added.DistinctBy(b => b.Cid));
            var frame = Wire.FrameEncoder.Encode(new Wire.CommitEvent
            {
                Seq = seq,
                Repo = did,
                Commit = commitCid,
                Rev = repo.Rev,
                Since = since,
                Blocks = CarReader.Read(CarWriter.Write([commitCid], blocks)),
                Ops = ops,
                PrevData = prevData,
                Time = ForumFrameFactory.Format(time),
            });
            var events = ops.Select(op => JetstreamEvents.Commit(did, timeUs, repo.Rev, op, op.Cid is { } c ? repo.Records[c] : null)).ToList();
            return new Written(seq, timeUs, did, frame, events, [.. ops.Select(o => o.Cid?.ToString())]);
        }
    }

    /// <summary>The CID at <paramref name="path"/> now (null: absent).</summary>
    public Cid? CidOf(string did, string path)
    {
        lock (_lock) return _repos.TryGetValue(did, out var repo) ? repo.Tree.Get(path) : null;
    }

    public bool HasRepository(string did)
    {
        lock (_lock) return _repos.ContainsKey(did);
    }

    /// <summary>
    /// <c>com.atproto.sync.getRecord</c>: a CAR rooted at the signed head commit with the MST nodes on the path to the key
    /// and the record block when present (a proof of absence otherwise); null when there is no such repository.
    /// </summary>
    public byte[]? RecordCar(string did, string collection, string rkey)
    {
        lock (_lock)
        {
            if (!_repos.TryGetValue(did, out var repo)) return null;
            var path = $"{collection}/{rkey}";
            var (commitCid, commitBytes) = SignedHead(did, repo);
            var blocks = new List<CarBlock> { new(commitCid, commitBytes) };
            blocks.AddRange(repo.Tree.ProofBlocks(path));
            if (repo.Tree.Get(path) is { } cid) blocks.Add(new CarBlock(cid, repo.Records[cid]));
            return CarWriter.Write([commitCid], blocks);
        }
    }

    /// <summary>A valid <c>getRecord</c> answer for another record of the repository than <paramref name="path"/> (null: there is none).</summary>
    public byte[]? RecordCarOfAnother(string did, string path)
    {
        string? other;
        lock (_lock)
        {
            other = _repos.TryGetValue(did, out var repo) ? repo.Tree.Walk().Select(l => l.Path).FirstOrDefault(p => p != path) : null;
        }
        return other is null ? null : RecordCar(did, other[..other.IndexOf('/')], other[(other.IndexOf('/') + 1)..]);
    }

    private (Cid Cid, byte[] Bytes) SignedHead(string did, Repository repo)
    {
        var data = repo.Tree.RootCid();
        var unsigned = Wire.CommitBlock.Encode(did, 3, data, repo.Rev, null, default, signed: false);
        var bytes = Wire.CommitBlock.Encode(did, 3, data, repo.Rev, null, key.Sign(unsigned));
        return (Cid.ForDagCbor(bytes), bytes);
    }
}

/// <summary>Jetstream v1 <c>/subscribe</c> events as production writes them (field order of <c>expected_v1.jsonl</c>).</summary>
public static class JetstreamEvents
{
    public static byte[] Commit(string did, long timeUs, string rev, Wire.RepoOp op, byte[]? record) =>
        Write(w =>
        {
            w.WriteString("did", did);
            w.WriteNumber("time_us", timeUs);
            w.WriteString("kind", "commit");
            w.WriteStartObject("commit");
            w.WriteString("rev", rev);
            w.WriteString("operation", op.Action switch { Wire.RepoAction.Create => "create", Wire.RepoAction.Update => "update", _ => "delete" });
            w.WriteString("collection", op.Collection);
            w.WriteString("rkey", op.RecordKey);
            if (record is not null)
            {
                w.WritePropertyName("record");
                AtProtoJson.WriteValue(w, DagCborReader.Decode(record));
                w.WriteString("cid", Cid.ForDagCbor(record).ToString());
            }
            w.WriteEndObject();
        });

    public static byte[] Identity(string did, long timeUs, long seq, string? handle, DateTimeOffset time) =>
        Write(w =>
        {
            w.WriteString("did", did);
            w.WriteNumber("time_us", timeUs);
            w.WriteString("kind", "identity");
            w.WriteStartObject("identity");
            w.WriteString("did", did);
            if (handle is not null) w.WriteString("handle", handle);
            w.WriteNumber("seq", seq);
            w.WriteString("time", ForumFrameFactory.Format(time));
            w.WriteEndObject();
        });

    public static byte[] Account(string did, long timeUs, long seq, bool active, string? status, DateTimeOffset time) =>
        Write(w =>
        {
            w.WriteString("did", did);
            w.WriteNumber("time_us", timeUs);
            w.WriteString("kind", "account");
            w.WriteStartObject("account");
            w.WriteBoolean("active", active);
            w.WriteString("did", did);
            w.WriteNumber("seq", seq);
            if (status is not null) w.WriteString("status", status);
            w.WriteString("time", ForumFrameFactory.Format(time));
            w.WriteEndObject();
        });

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
