using AtSync.Core.Forum;

namespace AtSync.Testing.Synthetic;

/// <summary>One step of a <see cref="ForumNetwork"/>: the relay frame and the Jetstream events it makes.</summary>
public sealed record NetworkStep(long Seq, long TimeUs, string Did, byte[] RelayFrame, IReadOnlyList<byte[]> JetstreamEvents, bool Forum);

/// <summary>
/// A deterministic forum conversation over real repositories (<see cref="ForumRepositories"/>, so every step can be
/// served by a relay, a Jetstream and the authors' PDS alike): topics, replies, edits, deletes, a reply that arrives
/// before its topic, identity and account events, and ordinary network commits between them. Enumerating a step
/// applies it to the repositories: a PDS serving them answers as of the last step taken.
/// </summary>
public static class ForumNetwork
{
    public static IEnumerable<NetworkStep> Generate(ForumRepositories repos, string boardUri, int steps, int seed = 7, int authors = 6,
        long firstSeq = 1000, DateTimeOffset? start = null)
    {
        var random = new Random(seed);
        var board = new StrongRef(boardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var t0 = start ?? new DateTimeOffset(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);
        var live = new List<(string Did, string Rkey, ForumPostRecord Record)>();
        var topics = new List<StrongRef>();
        (string Did, string Rkey, byte[] Record, StrongRef Ref, int Due)? delayed = null;
        var seq = firstSeq;
        for (var i = 0; i < steps; i++, seq++)
        {
            var time = t0.AddMilliseconds(i * 10.5);
            var did = Author(random.Next(authors));
            var rkey = ForumFrameFactory.Rkey(seq);
            var roll = random.NextDouble();
            if (delayed is { } late && late.Due <= i)
            {
                delayed = null;
                topics.Add(late.Ref);
                yield return Forum(repos.Commit(seq, late.Did, time, ($"{ForumLexicon.Post}/{late.Rkey}", late.Record)));
                continue;
            }
            if (roll < 0.20)
            {
                yield return Other(repos.Commit(seq, did, time, ($"app.bsky.feed.like/{rkey}", Like(seq))));
            }
            else if (roll < 0.23)
            {
                yield return new NetworkStep(seq, Us(time), did, ForumFrameFactory.Identity(seq, did, $"{did[8..14]}-{seq}.example.com", time),
                    [JetstreamEvents.Identity(did, Us(time), seq, $"{did[8..14]}-{seq}.example.com", time)], false);
            }
            else if (roll < 0.25)
            {
                var active = random.Next(3) > 0;
                var status = active ? null : "deactivated";
                yield return new NetworkStep(seq, Us(time), did, ForumFrameFactory.Account(seq, did, active, status, time),
                    [JetstreamEvents.Account(did, Us(time), seq, active, status, time)], false);
            }
            else if (topics.Count == 0 || roll < 0.42)
            {
                var record = new ForumPostRecord($"Topic [b]{seq}[/b] <text> & more", Created(time), board, $"Topic {seq}", null, null, null);
                var bytes = ForumFrameFactory.PostRecord(record);
                var self = new StrongRef($"at://{did}/{ForumLexicon.Post}/{rkey}", AtSync.AtProto.Cids.Cid.ForDagCbor(bytes).ToString());
                if (delayed is null && topics.Count > 0 && roll < 0.27)
                {
                    // Its reply goes out first; the topic follows a few steps later (the reply waits parked).
                    var replyRkey = ForumFrameFactory.Rkey(seq, 1);
                    var reply = new ForumPostRecord($"Early reply {seq}", Created(time), board, null, self, self, null);
                    live.Add((did, replyRkey, reply));
                    live.Add((did, rkey, record));
                    delayed = (did, rkey, bytes, self, i + 3 + random.Next(4));
                    yield return Forum(repos.Commit(seq, did, time, ($"{ForumLexicon.Post}/{replyRkey}", ForumFrameFactory.PostRecord(reply))));
                    continue;
                }
                topics.Add(self);
                live.Add((did, rkey, record));
                yield return Forum(repos.Commit(seq, did, time, ($"{ForumLexicon.Post}/{rkey}", bytes)));
            }
            else if (roll < 0.80 || live.Count < 3)
            {
                var root = topics[random.Next(topics.Count)];
                var record = new ForumPostRecord($"Reply {seq} from {did[8..14]}", Created(time), board, null, root, root, null);
                live.Add((did, rkey, record));
                yield return Forum(repos.Commit(seq, did, time, ($"{ForumLexicon.Post}/{rkey}", ForumFrameFactory.PostRecord(record))));
            }
            else
            {
                var index = random.Next(live.Count);
                var (author, postRkey, record) = live[index];
                var path = $"{ForumLexicon.Post}/{postRkey}";
                if (repos.CidOf(author, path) is null)
                {
                    // Not written yet (a delayed topic): an ordinary commit instead.
                    yield return Other(repos.Commit(seq, author, time, ($"app.bsky.feed.like/{rkey}", Like(seq))));
                }
                else if (roll < 0.92)
                {
                    var edited = record with { Text = record.Text + $" (edited at {seq})" };
                    live[index] = (author, postRkey, edited);
                    yield return Forum(repos.Commit(seq, author, time, (path, ForumFrameFactory.PostRecord(edited))));
                }
                else
                {
                    live.RemoveAt(index);
                    yield return Forum(repos.Commit(seq, author, time, (path, null)));
                }
            }
        }
    }

    /// <summary>A well-formed did:plc (24 base32 characters).</summary>
    public static string Author(int n) => $"did:plc:net{(char)('a' + n % 26)}{(char)('a' + n / 26 % 26)}aaaaaaaaaaaaaaaaaaa";

    private static NetworkStep Forum(ForumRepositories.Written written) =>
        new(written.Seq, written.TimeUs, written.Did, written.RelayFrame, written.JetstreamEvents, true);

    private static NetworkStep Other(ForumRepositories.Written written) =>
        new(written.Seq, written.TimeUs, written.Did, written.RelayFrame, written.JetstreamEvents, false);

    private static long Us(DateTimeOffset time) => time.ToUnixTimeMilliseconds() * 1000 + (time.Ticks / 10 % 1000);

    private static string Created(DateTimeOffset time) => time.AddSeconds(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] Like(long seq) => AtSync.AtProto.DagCbor.DagCborWriter.Encode(AtSync.AtProto.DagCbor.DagCborValue.FromMap(
        AtSync.AtProto.DagCbor.DagCborMap.Create(
            ("$type", AtSync.AtProto.DagCbor.DagCborValue.FromString("app.bsky.feed.like")),
            ("createdAt", AtSync.AtProto.DagCbor.DagCborValue.FromString("2026-07-04T15:00:00.000Z")),
            ("subject", AtSync.AtProto.DagCbor.DagCborValue.FromString($"at://did:plc:someone/app.bsky.feed.post/{seq}")))));
}
