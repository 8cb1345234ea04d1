using System.Globalization;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.Syntax;
using AtSync.Core.Forum;
using Wire = AtSync.AtProto.EventStream;

namespace AtSync.Testing.Synthetic;

/// <summary>
/// Builds real subscribeRepos / subscribeLabels frames, as a relay or labeler sends them: <c>#commit</c>s with a CAR
/// slice (signed commit block, an MST node, the record blocks, all under their computed CIDs), plus identity, account,
/// info, error and label frames. For tests, loopback peers, capture files and the benchmark's synthetic streams.
/// </summary>
public sealed class ForumFrameFactory(SigningKey signingKey) : IDisposable
{
    public static readonly string PostCollection = ForumLexicon.Post;

    public SigningKey SigningKey => signingKey;

    /// <summary>The frame bytes and the CID (string) of the record it carries (null for deletes).</summary>
    public sealed record BuiltCommit(byte[] Frame, string? RecordCid, string Uri);

    public static ForumFrameFactory Create() => new(SigningKey.Generate(KeyCurve.Secp256k1));

    /// <summary>A <c>net.vza.forum.post</c> record as DAG-CBOR.</summary>
    public static byte[] PostRecord(ForumPostRecord post)
    {
        var entries = new List<(string, DagCborValue)>
        {
            ("$type", DagCborValue.FromString(PostCollection)),
            ("text", DagCborValue.FromString(post.Text)),
            ("createdAt", DagCborValue.FromString(post.CreatedAt ?? "2026-01-01T00:00:00.000Z")),
            ("forum", Ref(post.Forum)),
        };
        if (post.Subject is not null) entries.Add(("subject", DagCborValue.FromString(post.Subject)));
        if (post.ReplyRoot is not null)
        {
            entries.Add(("reply", DagCborValue.FromMap(DagCborMap.Create(("root", Ref(post.ReplyRoot)), ("parent", Ref(post.ReplyParent ?? post.ReplyRoot))))));
        }
        if (post.TopicType is not null) entries.Add(("topicType", DagCborValue.FromString(post.TopicType)));
        return DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create([.. entries])));
    }

    private static DagCborValue Ref(StrongRef reference) =>
        DagCborValue.FromMap(DagCborMap.Create(("uri", DagCborValue.FromString(reference.Uri)), ("cid", DagCborValue.FromString(reference.Cid))));

    /// <summary>A commit creating (or updating) one post.</summary>
    public BuiltCommit Post(long seq, string did, string rkey, ForumPostRecord post, DateTimeOffset time, bool update = false)
    {
        var record = PostRecord(post);
        var cid = Cid.ForDagCbor(record);
        var path = $"{PostCollection}/{rkey}";
        var op = new Wire.RepoOp(update ? Wire.RepoAction.Update : Wire.RepoAction.Create, path, cid, update ? cid : null);
        return new BuiltCommit(Commit(seq, did, time, [op], [record]), cid.ToString(), $"at://{did}/{path}");
    }

    /// <summary>A commit deleting one post.</summary>
    public BuiltCommit Delete(long seq, string did, string rkey, DateTimeOffset time)
    {
        var path = $"{PostCollection}/{rkey}";
        return new BuiltCommit(Commit(seq, did, time, [new Wire.RepoOp(Wire.RepoAction.Delete, path, null)], []), null, $"at://{did}/{path}");
    }

    /// <summary>A commit of ordinary network traffic (likes/posts of other collections), which the Firehose ignores.</summary>
    public byte[] Other(long seq, string did, int ops, DateTimeOffset time, int salt = 0)
    {
        var records = new List<byte[]>();
        var repoOps = new List<Wire.RepoOp>();
        for (var i = 0; i < ops; i++)
        {
            var collection = i % 2 == 0 ? "app.bsky.feed.like" : "app.bsky.feed.post";
            var record = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(
                ("$type", DagCborValue.FromString(collection)),
                ("createdAt", DagCborValue.FromString(time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))),
                ("text", DagCborValue.FromString($"synthetic {seq} {i} {salt}")))));
            records.Add(record);
            repoOps.Add(new Wire.RepoOp(Wire.RepoAction.Create, $"{collection}/{Rkey(seq, i)}", Cid.ForDagCbor(record)));
        }
        return Commit(seq, did, time, repoOps, records);
    }

    public static byte[] Identity(long seq, string did, string? handle, DateTimeOffset time) =>
        Wire.FrameEncoder.Encode(new Wire.IdentityEvent { Seq = seq, Did = did, Handle = handle, Time = Format(time) });

    public static byte[] Account(long seq, string did, bool active, string? status, DateTimeOffset time) =>
        Wire.FrameEncoder.Encode(new Wire.AccountEvent { Seq = seq, Did = did, Active = active, Status = status, Time = Format(time) });

    public static byte[] Info(string name, string? message) => Wire.FrameEncoder.Encode(new Wire.InfoEvent { Name = name, Message = message });

    public static byte[] Error(string error, string? message) => Wire.FrameEncoder.Encode(new Wire.ErrorEvent { Error = error, Message = message });

    /// <summary>A <c>#labels</c> frame of unsigned labels (which the Firehose ignores and counts).</summary>
    public static byte[] Labels(long seq, params LabelRecord[] labels) => Labels(seq, null, labels);

    /// <summary>
    /// A <c>#labels</c> frame as a labeler sends it: each label signed by <paramref name="labelerKey"/> (its
    /// <c>#atproto_label</c> key) over the label's DAG-CBOR without <c>sig</c>; unsigned when the key is null.
    /// </summary>
    public static byte[] Labels(long seq, SigningKey? labelerKey, params LabelRecord[] labels) =>
        Wire.FrameEncoder.Encode(new Wire.LabelsEvent
        {
            Seq = seq,
            Labels = [.. labels.Select(l => Sign(Label(l), labelerKey))],
        });

    /// <summary>The wire form of <paramref name="label"/>, unsigned.</summary>
    public static Wire.Label Label(LabelRecord label) => new()
    {
        Ver = 1, Src = label.Src, Uri = label.Uri, Cid = label.Cid, Val = label.Value, Neg = label.Negated,
        Cts = Format(label.Created ?? DateTimeOffset.UnixEpoch),
        Exp = label.Expires is { } exp ? Format(exp) : null,
    };

    /// <summary><paramref name="label"/> with its <c>sig</c> by <paramref name="key"/> (unchanged when the key is null).</summary>
    public static Wire.Label Sign(Wire.Label label, SigningKey? key) =>
        key is null ? label : label with { Sig = key.Sign(Wire.FrameEncoder.EncodeLabel(label with { Sig = null })) };

    /// <summary>A TID record key derived from a sequence number (unique per (seq, index)).</summary>
    public static string Rkey(long seq, int index = 0) =>
        Tid.FromParts(1_700_000_000_000_000L + (seq * 16) + index, (int)(seq % 1024)).ToString();

    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private byte[] Commit(long seq, string did, DateTimeOffset time, IReadOnlyList<Wire.RepoOp> ops, IReadOnlyList<byte[]> records)
    {
        // One MST node listing the ops' records (keys relative to the previous entry, as the MST format has them).
        var entries = new List<DagCborValue>();
        var previous = Array.Empty<byte>();
        foreach (var op in ops.Where(o => o.Cid is not null).OrderBy(o => o.Path, StringComparer.Ordinal))
        {
            var key = System.Text.Encoding.ASCII.GetBytes(op.Path);
            var prefix = 0;
            while (prefix < previous.Length && prefix < key.Length && previous[prefix] == key[prefix]) prefix++;
            entries.Add(DagCborValue.FromMap(DagCborMap.Create(
                ("p", DagCborValue.FromInt64(prefix)),
                ("k", DagCborValue.FromBytes(key[prefix..])),
                ("v", DagCborValue.FromCid(op.Cid!.Value)),
                ("t", DagCborValue.Null))));
            previous = key;
        }
        var mst = DagCborWriter.Encode(DagCborValue.FromMap(DagCborMap.Create(("l", DagCborValue.Null), ("e", DagCborValue.FromArray([.. entries])))));
        var data = Cid.ForDagCbor(mst);
        var rev = Tid.FromParts(time.ToUnixTimeMilliseconds() * 1000 + (seq % 1000), 0).ToString();
        var unsigned = Wire.CommitBlock.Encode(did, 3, data, rev, null, [], signed: false);
        var signature = signingKey.Sign(unsigned);
        var commitBlock = Wire.CommitBlock.Encode(did, 3, data, rev, null, signature);
        var commitCid = Cid.ForDagCbor(commitBlock);
        var car = CarWriter.WriteDagCborBlocks([commitCid], [commitBlock, mst, .. records]);
        return Wire.FrameEncoder.Encode(new Wire.CommitEvent
        {
            Seq = seq,
            Repo = did,
            Commit = commitCid,
            Rev = rev,
            Blocks = CarReader.Read(car),
            Ops = ops,
            Time = Format(time),
        });
    }

    public void Dispose() => signingKey.Dispose();
}
