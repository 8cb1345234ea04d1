using AtSync.AtProto;
using AtSync.AtProto.DagCbor;
using AtSync.AtProto.EventStream;
using AtSync.AtProto.Json;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

/// <summary>
/// Damaged frames must give a clean result or an <see cref="AtProtoDataException"/> — never another exception type,
/// a hang, or an allocation out of proportion to the input. Deterministic (fixed seed), a few seconds in CI.
/// </summary>
public class FrameRobustnessTests
{
    private const int Seed = 20260704;

    [Fact]
    public void Every_truncation_of_every_frame_fails_with_a_library_error()
    {
        var frames = CorpusFiles.FirehoseFrames();
        long cases = 0;
        for (var f = 0; f < frames.Count; f++)
        {
            var frame = frames[f];
            for (var length = 0; length < frame.Length; length++)
            {
                // A strict prefix of a valid frame is never itself a valid frame. The throwing decoder is run on a
                // deterministic sample (exceptions cost microseconds each); the error-value decoder on every length.
                var outcome = Exercise(frame.AsMemory(0, length), () => $"frame {f} truncated to {length}", throwingToo: length % 32 == 0);
                if (outcome != Outcome.Error)
                {
                    Assert.Fail($"frame {f} truncated to {length} decoded");
                }
                cases++;
            }
        }

        Assert.True(cases > 500_000, cases.ToString());
    }

    [Fact]
    public void Single_byte_corruptions_fail_cleanly_or_decode()
    {
        var frames = CorpusFiles.FirehoseFrames();
        var random = new Random(Seed);
        var errors = 0;
        var decoded = 0;

        // Every position of a few frames (the identity, the account and the two smallest commits), several values each;
        // 48 random positions of every other frame.
        var exhaustive = Enumerable.Range(0, frames.Count).OrderBy(i => frames[i].Length).Take(4).ToHashSet();
        for (var f = 0; f < frames.Count; f++)
        {
            var frame = frames[f];
            var copy = (byte[])frame.Clone();
            IEnumerable<int> positions = exhaustive.Contains(f)
                ? Enumerable.Range(0, frame.Length)
                : Enumerable.Range(0, 48).Select(_ => random.Next(frame.Length));
            foreach (var pos in positions)
            {
                byte[] values = exhaustive.Contains(f)
                    ? [(byte)(frame[pos] ^ 0x01), (byte)(frame[pos] ^ 0x80), 0x00, 0xff, (byte)random.Next(256)]
                    : [(byte)random.Next(256)];
                foreach (var value in values)
                {
                    if (value == frame[pos])
                    {
                        continue;
                    }

                    copy[pos] = value;
                    var outcome = Exercise(copy, () => $"frame {f} byte {pos} = 0x{value:x2}", throwingToo: true);
                    if (outcome == Outcome.Error)
                    {
                        errors++;
                    }
                    else
                    {
                        decoded++;
                    }

                    copy[pos] = frame[pos];
                }
            }
        }

        // Most damage is detected (CID checks, strict encoding); some lands in free text and still decodes.
        Assert.True(errors > 10_000, $"errors {errors}");
        Assert.True(decoded > 0, "some corruptions (e.g. inside strings) must still decode");
    }

    [Fact]
    public void Corrupted_and_truncated_blocks_fail_with_dag_cbor_errors()
    {
        var random = new Random(Seed);
        var blocks = CorpusFiles.FirehoseFrames()
            .Select(f => FrameDecoder.DecodeRepoFrame(f))
            .OfType<CommitEvent>()
            .SelectMany(c => c.Blocks.Blocks.ToArray())
            .ToList();
        var errors = 0;
        var n = 0;
        foreach (var block in blocks)
        {
            var data = block.Data.ToArray();
            for (var i = 0; i < 16; i++)
            {
                var pos = random.Next(data.Length);
                var old = data[pos];
                data[pos] = (byte)random.Next(256);
                var valid = DagCborReader.TryValidate(data, out var error);
                if (!valid)
                {
                    errors++;
                    Assert.False(string.IsNullOrEmpty(error.Reason));
                    Assert.InRange(error.Offset, 0, data.Length);
                }

                // The throwing decoder agrees with the validator (checked on a sample: exceptions are slow).
                if (valid || ++n % 8 == 0)
                {
                    try
                    {
                        var value = DagCborReader.Decode(data);
                        Assert.True(valid, $"Decode accepted what TryValidate rejected: {error}");
                        AtProtoJson.ToJsonUtf8(value);
                        Assert.True(data.AsSpan().SequenceEqual(DagCborWriter.Encode(value)), "re-encoding differs");
                    }
                    catch (DagCborException)
                    {
                        Assert.False(valid, "Decode rejected what TryValidate accepted");
                    }
                }

                data[pos] = old;
            }

            // Every truncation of every frame is covered above; here a spread of lengths per block.
            for (var length = 0; length < data.Length; length += 1 + data.Length / 32)
            {
                Assert.False(DagCborReader.TryValidate(data.AsSpan(0, length), out _));
            }
        }

        Assert.True(errors > blocks.Count, $"errors {errors}");
    }

    [Fact]
    public void Damaged_label_frames_fail_with_library_errors()
    {
        var frame = FrameEncoder.Encode(new LabelsEvent
        {
            Seq = 12,
            Labels =
            [
                new Label { Ver = 1, Src = "did:plc:labeler", Uri = "at://did:plc:x/net.vza.forum.post/3a", Val = "spam", Cts = "2026-01-01T00:00:00Z", Sig = new byte[64] },
                new Label { Src = "did:plc:labeler", Uri = "did:plc:x", Val = "!hide", Neg = true, Cts = "2026-01-01T00:00:00Z", Exp = "2026-02-01T00:00:00Z" },
            ],
        });
        Assert.True(FrameDecoder.TryDecodeLabelFrame(frame, out _, out _));
        var errors = 0;
        for (var length = 0; length < frame.Length; length++)
        {
            Assert.False(FrameDecoder.TryDecodeLabelFrame(frame.AsMemory(0, length), out _, out _));
            Assert.ThrowsAny<AtProtoDataException>(() => FrameDecoder.DecodeLabelFrame(frame.AsMemory(0, length)));
        }

        var copy = (byte[])frame.Clone();
        for (var pos = 0; pos < frame.Length; pos++)
        {
            foreach (var value in new[] { (byte)(frame[pos] ^ 0x01), (byte)(frame[pos] ^ 0x80), (byte)0x00, (byte)0xff })
            {
                copy[pos] = value;
                var ok = FrameDecoder.TryDecodeLabelFrame(copy, out _, out _);
                try
                {
                    FrameDecoder.DecodeLabelFrame(copy);
                    Assert.True(ok, $"byte {pos}: Decode accepted what TryDecode rejected");
                }
                catch (AtProtoDataException)
                {
                    Assert.False(ok, $"byte {pos}: Decode rejected what TryDecode accepted");
                    errors++;
                }

                copy[pos] = frame[pos];
            }
        }

        Assert.True(errors > frame.Length, $"errors {errors}");
    }

    [Fact]
    public void Hostile_lengths_are_rejected_without_allocating_them()
    {
        // A byte string, an array and a map each claiming ~4 GiB / 2^64 entries, inside an otherwise valid frame prefix.
        byte[][] inputs =
        [
            [0xa2, 0x61, 0x74, 0x67, .. "#commit"u8, 0x62, 0x6f, 0x70, 0x01, 0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            [0xa2, 0x61, 0x74, 0x67, .. "#commit"u8, 0x62, 0x6f, 0x70, 0x01, 0xa1, 0x63, .. "ops"u8, 0x9a, 0xff, 0xff, 0xff, 0xff],
            [0xa2, 0x61, 0x74, 0x67, .. "#commit"u8, 0x62, 0x6f, 0x70, 0x01, 0xa1, 0x66, .. "blocks"u8, 0x5a, 0xff, 0xff, 0xff, 0xf0],
        ];
        foreach (var input in inputs)
        {
            Assert.Equal(Outcome.Error, Exercise(input, () => Convert.ToHexString(input), throwingToo: true));
        }
    }

    private enum Outcome
    {
        Error,
        Decoded,
    }

    /// <summary>
    /// Decodes with the error-value API (and, if asked, the throwing one, which must agree); on success walks
    /// everything a consumer would touch. Anything but a library error fails the test; so does a large allocation.
    /// </summary>
    private static Outcome Exercise(ReadOnlyMemory<byte> input, Func<string> what, bool throwingToo)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Outcome outcome;
        try
        {
            if (FrameDecoder.TryDecodeRepoFrame(input, out var evt, out var error))
            {
                Consume(evt);
                outcome = Outcome.Decoded;
            }
            else
            {
                if (string.IsNullOrEmpty(error.Reason) || error.Offset < -1 || error.Offset > input.Length)
                {
                    Assert.Fail($"{what()}: bad error {error}");
                }
                outcome = Outcome.Error;
            }
        }
        catch (AtProtoDataException)
        {
            // Raised while consuming a decoded event (e.g. a record block that is not valid DAG-CBOR).
            outcome = Outcome.Error;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what()}: {ex.GetType().Name} is not a library error: {ex}");
            throw;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > 64 * 1024 + 16L * input.Length)
        {
            Assert.Fail($"{what()}: allocated {allocated} bytes for {input.Length} bytes of input");
        }

        if (throwingToo)
        {
            try
            {
                FrameDecoder.DecodeRepoFrame(input);
            }
            catch (AtProtoDataException)
            {
                return Outcome.Error;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{what()}: {ex.GetType().Name} is not a library error: {ex}");
            }
        }

        return outcome;
    }

    private static void Consume(FirehoseEvent evt)
    {
        if (evt is CommitEvent commit)
        {
            commit.ReadCommitBlock().GetUnsignedBytes();
            foreach (var op in commit.Ops)
            {
                _ = op.Collection + op.RecordKey;
                if (commit.TryGetRecord(op, out var record))
                {
                    AtProtoJson.ToJsonUtf8(record);
                }
            }
        }
    }
}
