using AtSync.Core.Forum;

namespace AtSync.Testing.Synthetic;

/// <summary>What a synthetic stream holds.</summary>
public sealed record SyntheticStreamOptions
{
    public required int Frames { get; init; }

    /// <summary>Share of frames that are forum operations (the rest is ordinary network traffic).</summary>
    public double ForumShare { get; init; } = 0.1;

    public int Seed { get; init; } = 1;

    public long FirstSeq { get; init; } = 1;

    public int Authors { get; init; } = 200;

    public required string BoardUri { get; init; }

    public DateTimeOffset Start { get; init; } = new(2026, 7, 4, 12, 0, 0, TimeSpan.Zero);
}

/// <summary>
/// A deterministic synthetic relay stream (same options, same frames): mostly ordinary commits of other collections,
/// with forum topics, replies, edits, deletes, replies that arrive before their topic, identity and account events.
/// Shared by the crash test and the benchmark.
/// </summary>
public static class SyntheticStream
{
    public static IEnumerable<(long Seq, byte[] Frame)> Generate(ForumFrameFactory factory, SyntheticStreamOptions options)
    {
        var random = new Random(options.Seed);
        var board = new StrongRef(options.BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
        var topics = new List<StrongRef>();
        var posts = new List<(string Did, string Rkey, StrongRef Root)>();
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        var delayed = new List<(long DueSeq, string Author, string Rkey, ForumPostRecord Record, StrongRef Root)>();
        var seq = options.FirstSeq;
        var end = options.FirstSeq + options.Frames;
        // A well-formed did:plc (24 base32 characters), so the authors' DID documents can be served and resolved.
        static string Author(int n) => $"did:plc:synth{Base32Digits(n, 4)}aaaaaaaaaaaaaaa";

        while (seq < end)
        {
            var time = options.Start.AddMilliseconds((seq - options.FirstSeq) * 10);
            var due = delayed.FindIndex(d => d.DueSeq <= seq);
            if (due >= 0)
            {
                // A topic whose reply went out earlier (the reply was parked until now). Its commit is built now, so it
                // follows the author's earlier commits in the repository's chain.
                var item = delayed[due];
                delayed.RemoveAt(due);
                topics.Add(item.Root);
                yield return (seq, factory.Post(seq, item.Author, item.Rkey, item.Record, time).Frame);
                seq++;
                continue;
            }
            var roll = random.NextDouble();
            if (roll >= options.ForumShare)
            {
                var special = random.NextDouble();
                var did = Author(random.Next(options.Authors * 5));
                yield return special switch
                {
                    < 0.005 => (seq, ForumFrameFactory.Identity(seq, Author(random.Next(options.Authors)), $"user{random.Next(options.Authors)}-{seq}.example.com", time)),
                    < 0.008 => (seq, ForumFrameFactory.Account(seq, Author(random.Next(options.Authors)), random.Next(2) == 0, "deactivated", time)),
                    _ => (seq, factory.Other(seq, did, 1 + random.Next(3), time, options.Seed)),
                };
                seq++;
                continue;
            }

            var author = Author(random.Next(options.Authors));
            var rkey = ForumFrameFactory.Rkey(seq);
            var kind = random.NextDouble();
            if (topics.Count == 0 || kind < 0.25)
            {
                var record = new ForumPostRecord($"Topic text {seq}", null, board, $"Topic {seq}", null, null, null);
                var root = new StrongRef($"at://{author}/{ForumLexicon.Post}/{rkey}",
                    AtSync.AtProto.Cids.Cid.ForDagCbor(ForumFrameFactory.PostRecord(record)).ToString());
                if (kind < 0.03 && seq + 40 < end)
                {
                    // Out of order: a reply to this topic goes first, the topic follows 20–40 frames later.
                    var replyRkey = ForumFrameFactory.Rkey(seq, 1);
                    var reply = factory.Post(seq, author, replyRkey, new ForumPostRecord($"Early reply {seq}", null, board, null, root, root, null), time);
                    delayed.Add((seq + 20 + random.Next(20), author, rkey, record, root));
                    posts.Add((author, replyRkey, root));
                    yield return (seq, reply.Frame);
                }
                else
                {
                    topics.Add(root);
                    posts.Add((author, rkey, root));
                    yield return (seq, factory.Post(seq, author, rkey, record, time).Frame);
                }
            }
            else if (kind < 0.80 || posts.Count == 0)
            {
                var root = topics[random.Next(topics.Count)];
                posts.Add((author, rkey, root));
                yield return (seq, factory.Post(seq, author, rkey, new ForumPostRecord($"Reply {seq}", null, board, null, root, root, null), time).Frame);
            }
            else if (kind < 0.92)
            {
                var (did, postRkey, root) = posts[random.Next(posts.Count)];
                var isTopic = $"at://{did}/{ForumLexicon.Post}/{postRkey}" == root.Uri;
                yield return (seq, factory.Post(seq, did, postRkey,
                    new ForumPostRecord($"Edited at {seq}", null, board, isTopic ? $"Edited topic {seq}" : null, isTopic ? null : root, isTopic ? null : root, null),
                    time, update: true).Frame);
            }
            else
            {
                var (did, postRkey, _) = posts[random.Next(posts.Count)];
                if (!deleted.Add($"{did}/{postRkey}"))
                {
                    yield return (seq, factory.Other(seq, did, 1, time, options.Seed));
                }
                else
                {
                    yield return (seq, factory.Delete(seq, did, postRkey, time).Frame);
                }
            }
            seq++;
        }
    }

    /// <summary><paramref name="value"/> in <paramref name="width"/> did:plc base32 characters (a–z, 2–7).</summary>
    private static string Base32Digits(int value, int width)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var chars = new char[width];
        for (var i = width - 1; i >= 0; i--, value /= 32) chars[i] = alphabet[value % 32];
        return new string(chars);
    }
}
