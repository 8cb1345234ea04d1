using System.Diagnostics.CodeAnalysis;
using AtSync.AtProto.Car;
using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.EventStream;

/// <summary>
/// Decodes event-stream WebSocket binary messages: a DAG-CBOR header <c>{op, t}</c> followed by a DAG-CBOR body.
/// Every failure is an <see cref="AtProtoDataException"/> (<see cref="DagCborException"/>, <see cref="CarException"/>,
/// <see cref="FrameFormatException"/>); unknown message types decode to <see cref="UnknownEvent"/>.
/// </summary>
public static class FrameDecoder
{
    /// <summary>Decodes one <c>com.atproto.sync.subscribeRepos</c> message.</summary>
    public static FirehoseEvent DecodeRepoFrame(ReadOnlyMemory<byte> frame, FrameDecodeOptions? options = null)
        => Decode(frame, options ?? FrameDecodeOptions.Default, labels: false);

    /// <summary>Decodes one <c>com.atproto.label.subscribeLabels</c> message.</summary>
    public static FirehoseEvent DecodeLabelFrame(ReadOnlyMemory<byte> frame, FrameDecodeOptions? options = null)
        => Decode(frame, options ?? FrameDecodeOptions.Default, labels: true);

    /// <summary>
    /// Decodes one <c>com.atproto.sync.subscribeRepos</c> message, reporting bad input as a <see cref="DecodeError"/>
    /// instead of throwing. The frame's DAG-CBOR structure is checked first without exceptions, so damaged frames
    /// (truncated, non-canonical) cost no more than a scan.
    /// </summary>
    public static bool TryDecodeRepoFrame(
        ReadOnlyMemory<byte> frame, [NotNullWhen(true)] out FirehoseEvent? evt, out DecodeError error, FrameDecodeOptions? options = null)
        => TryDecode(frame, options ?? FrameDecodeOptions.Default, labels: false, out evt, out error);

    /// <summary>The non-throwing form of <see cref="DecodeLabelFrame"/>.</summary>
    public static bool TryDecodeLabelFrame(
        ReadOnlyMemory<byte> frame, [NotNullWhen(true)] out FirehoseEvent? evt, out DecodeError error, FrameDecodeOptions? options = null)
        => TryDecode(frame, options ?? FrameDecodeOptions.Default, labels: true, out evt, out error);

    private static bool TryDecode(
        ReadOnlyMemory<byte> frame, FrameDecodeOptions options, bool labels, [NotNullWhen(true)] out FirehoseEvent? evt, out DecodeError error)
    {
        evt = null;
        if (frame.Length > options.MaxFrameLength)
        {
            error = new DecodeError($"frame of {frame.Length} bytes exceeds the limit of {options.MaxFrameLength}", 0);
            return false;
        }

        // Structure first (header value, body value, nothing after), without exceptions.
        var reader = new DagCborReader(frame, options.DagCbor);
        var reason = reader.TryValidateNext(out var headerEnd, out var at);
        if (reason is null)
        {
            reader = new DagCborReader(frame[headerEnd..], options.DagCbor, headerEnd);
            reason = reader.TryValidateNext(out var bodyEnd, out at);
            if (reason is null && headerEnd + bodyEnd != frame.Length)
            {
                reason = $"{frame.Length - headerEnd - bodyEnd} trailing bytes after the body";
                at = headerEnd + bodyEnd;
            }
        }

        if (reason is not null)
        {
            error = new DecodeError(reason, at);
            return false;
        }

        try
        {
            evt = Decode(frame, options, labels);
            error = default;
            return true;
        }
        catch (AtProtoDataException ex)
        {
            error = DecodeError.From(ex);
            return false;
        }
    }

    private static FirehoseEvent Decode(ReadOnlyMemory<byte> frame, FrameDecodeOptions options, bool labels)
    {
        if (frame.Length > options.MaxFrameLength)
        {
            throw new FrameFormatException($"frame of {frame.Length} bytes exceeds the limit of {options.MaxFrameLength}", 0);
        }

        var reader = new DagCborReader(frame, options.DagCbor);
        ReadHeader(ref reader, out var op, out var typeStart, out var typeLength);
        var type = typeLength < 0 ? default : frame.Span.Slice(typeStart, typeLength);
        FirehoseEvent result;
        if (op == -1)
        {
            result = ReadError(ref reader);
        }
        else if (op != 1)
        {
            throw new FrameFormatException($"unknown frame op {op}", 0);
        }
        else if (typeLength < 0)
        {
            throw new FrameFormatException("message frame header has no 't'", 0);
        }
        else if (type.SequenceEqual("#info"u8))
        {
            result = ReadInfo(ref reader);
        }
        else if (labels)
        {
            result = type.SequenceEqual("#labels"u8) ? ReadLabels(ref reader, options) : ReadUnknown(ref reader, frame, type);
        }
        else if (type.SequenceEqual("#commit"u8))
        {
            result = ReadCommit(ref reader, frame, options);
        }
        else if (type.SequenceEqual("#identity"u8))
        {
            result = ReadIdentity(ref reader);
        }
        else if (type.SequenceEqual("#account"u8))
        {
            result = ReadAccount(ref reader);
        }
        else if (type.SequenceEqual("#sync"u8))
        {
            result = ReadSync(ref reader, frame, options);
        }
        else
        {
            result = ReadUnknown(ref reader, frame, type);
        }

        reader.EnsureEnd();
        return result;
    }

    private static void ReadHeader(ref DagCborReader reader, out long op, out int typeStart, out int typeLength)
    {
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        op = 0;
        var hasOp = false;
        typeStart = 0;
        typeLength = -1;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual("t"u8))
            {
                var t = reader.ReadUtf8();
                typeLength = t.Length;
                typeStart = reader.Position - t.Length;
            }
            else if (key.SequenceEqual("op"u8))
            {
                op = reader.ReadInt64();
                hasOp = true;
            }
            else
            {
                reader.SkipValue();
            }
        }

        if (!hasOp)
        {
            throw new FrameFormatException("frame header has no 'op'", 0);
        }

        if (typeLength < 0)
        {
            typeStart = 0;
        }
    }

    private static FrameFormatException Missing(string type, string field, int at) => new($"{type} is missing '{field}'", at);

    private static CommitEvent ReadCommit(ref DagCborReader reader, ReadOnlyMemory<byte> frame, FrameDecodeOptions options)
    {
        var bodyStart = reader.Position;
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        long seq = -1;
        string? repo = null, rev = null, since = null, time = null;
        Cid commit = default;
        Cid? prevData = null;
        RepoOp[]? ops = null;
        var blocksStart = -1;
        var blocksLength = 0;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            switch (key.Length)
            {
                case 3 when key.SequenceEqual("ops"u8):
                    ops = ReadOps(ref reader, options);
                    break;
                case 3 when key.SequenceEqual("rev"u8):
                    rev = reader.ReadString();
                    break;
                case 3 when key.SequenceEqual("seq"u8):
                    seq = ReadSeq(ref reader);
                    break;
                case 4 when key.SequenceEqual("repo"u8):
                    repo = reader.ReadString();
                    break;
                case 4 when key.SequenceEqual("time"u8):
                    time = reader.ReadString();
                    break;
                case 5 when key.SequenceEqual("since"u8):
                    since = reader.ReadNullableString();
                    break;
                case 6 when key.SequenceEqual("blocks"u8):
                    blocksLength = reader.ReadBytes().Length;
                    blocksStart = reader.Position - blocksLength;
                    break;
                case 6 when key.SequenceEqual("commit"u8):
                    commit = reader.ReadCid();
                    break;
                case 8 when key.SequenceEqual("prevData"u8):
                    prevData = reader.ReadNullableCid();
                    break;
                default:
                    reader.SkipValue(); // tooBig, rebase, blobs (deprecated) and anything newer
                    break;
            }
        }

        var missing = seq < 0 ? "seq" : repo is null ? "repo" : rev is null ? "rev" : time is null ? "time"
            : commit.IsEmpty ? "commit" : ops is null ? "ops" : blocksStart < 0 ? "blocks" : null;
        if (missing is not null)
        {
            throw Missing("#commit", missing, bodyStart);
        }

        var car = ReadCar(frame.Slice(blocksStart, blocksLength), options, blocksStart);
        return new CommitEvent
        {
            Seq = seq,
            Repo = repo!,
            Commit = commit,
            Rev = rev!,
            Since = since,
            Blocks = car,
            Ops = ops!,
            PrevData = prevData,
            Time = time!,
        };
    }

    private static CarFile ReadCar(ReadOnlyMemory<byte> car, FrameDecodeOptions options, int offset)
    {
        try
        {
            return CarReader.Read(car, options.Car);
        }
        catch (CarException ex)
        {
            throw new CarException(ex.Reason, ex.Offset < 0 ? offset : offset + ex.Offset, ex);
        }
    }

    private static long ReadSeq(ref DagCborReader reader)
    {
        var at = reader.Position;
        var seq = reader.ReadInt64();
        if (seq < 0)
        {
            throw new FrameFormatException("seq must not be negative", at);
        }

        return seq;
    }

    private static RepoOp[] ReadOps(ref DagCborReader reader, FrameDecodeOptions options)
    {
        var at = reader.Position;
        var count = reader.ReadArrayHeader();
        if (count > options.MaxOps)
        {
            throw new FrameFormatException($"{count} ops exceed the limit of {options.MaxOps}", at);
        }

        var ops = count == 0 ? [] : new RepoOp[count];
        for (var i = 0; i < count; i++)
        {
            var opStart = reader.Position;
            var entries = reader.ReadMapHeader();
            var order = default(MapKeyOrder);
            Cid? cid = null, prev = null;
            var hasCid = false;
            string? path = null;
            RepoAction? action = null;
            for (var j = 0; j < entries; j++)
            {
                var key = reader.ReadMapKey(ref order);
                if (key.SequenceEqual("cid"u8))
                {
                    cid = reader.ReadNullableCid();
                    hasCid = true;
                }
                else if (key.SequenceEqual("path"u8))
                {
                    path = reader.ReadString();
                }
                else if (key.SequenceEqual("prev"u8))
                {
                    prev = reader.ReadNullableCid();
                }
                else if (key.SequenceEqual("action"u8))
                {
                    var actionAt = reader.Position;
                    var a = reader.ReadUtf8();
                    action = a.SequenceEqual("create"u8) ? RepoAction.Create
                        : a.SequenceEqual("update"u8) ? RepoAction.Update
                        : a.SequenceEqual("delete"u8) ? RepoAction.Delete
                        : throw new FrameFormatException($"unknown op action '{System.Text.Encoding.UTF8.GetString(a)}'", actionAt);
                }
                else
                {
                    reader.SkipValue();
                }
            }

            if (action is null || path is null || !hasCid)
            {
                throw Missing("repo op", action is null ? "action" : path is null ? "path" : "cid", opStart);
            }

            if ((action == RepoAction.Delete) != (cid is null))
            {
                throw new FrameFormatException(action == RepoAction.Delete ? "a delete op must have a null cid" : $"a {action} op needs a cid", opStart);
            }

            try
            {
                ops[i] = new RepoOp(action.Value, path, cid, prev);
            }
            catch (FrameFormatException ex)
            {
                throw new FrameFormatException(ex.Reason, opStart, ex);
            }
        }

        return ops;
    }

    private static SyncEvent ReadSync(ref DagCborReader reader, ReadOnlyMemory<byte> frame, FrameDecodeOptions options)
    {
        var bodyStart = reader.Position;
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        long seq = -1;
        string? did = null, rev = null, time = null;
        var blocksStart = -1;
        var blocksLength = 0;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual("did"u8))
            {
                did = reader.ReadString();
            }
            else if (key.SequenceEqual("rev"u8))
            {
                rev = reader.ReadString();
            }
            else if (key.SequenceEqual("seq"u8))
            {
                seq = ReadSeq(ref reader);
            }
            else if (key.SequenceEqual("time"u8))
            {
                time = reader.ReadString();
            }
            else if (key.SequenceEqual("blocks"u8))
            {
                blocksLength = reader.ReadBytes().Length;
                blocksStart = reader.Position - blocksLength;
            }
            else
            {
                reader.SkipValue();
            }
        }

        var missing = seq < 0 ? "seq" : did is null ? "did" : rev is null ? "rev" : time is null ? "time" : blocksStart < 0 ? "blocks" : null;
        if (missing is not null)
        {
            throw Missing("#sync", missing, bodyStart);
        }

        return new SyncEvent
        {
            Seq = seq,
            Did = did!,
            Rev = rev!,
            Time = time!,
            Blocks = ReadCar(frame.Slice(blocksStart, blocksLength), options, blocksStart),
        };
    }

    private static IdentityEvent ReadIdentity(ref DagCborReader reader)
    {
        var bodyStart = reader.Position;
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        long seq = -1;
        string? did = null, time = null, handle = null;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual("did"u8))
            {
                did = reader.ReadString();
            }
            else if (key.SequenceEqual("seq"u8))
            {
                seq = ReadSeq(ref reader);
            }
            else if (key.SequenceEqual("time"u8))
            {
                time = reader.ReadString();
            }
            else if (key.SequenceEqual("handle"u8))
            {
                handle = reader.ReadNullableString();
            }
            else
            {
                reader.SkipValue();
            }
        }

        var missing = seq < 0 ? "seq" : did is null ? "did" : time is null ? "time" : null;
        if (missing is not null)
        {
            throw Missing("#identity", missing, bodyStart);
        }

        return new IdentityEvent { Seq = seq, Did = did!, Time = time!, Handle = handle };
    }

    private static AccountEvent ReadAccount(ref DagCborReader reader)
    {
        var bodyStart = reader.Position;
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        long seq = -1;
        string? did = null, time = null, status = null;
        bool? active = null;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual("did"u8))
            {
                did = reader.ReadString();
            }
            else if (key.SequenceEqual("seq"u8))
            {
                seq = ReadSeq(ref reader);
            }
            else if (key.SequenceEqual("time"u8))
            {
                time = reader.ReadString();
            }
            else if (key.SequenceEqual("active"u8))
            {
                active = reader.ReadBoolean();
            }
            else if (key.SequenceEqual("status"u8))
            {
                status = reader.ReadNullableString();
            }
            else
            {
                reader.SkipValue();
            }
        }

        var missing = seq < 0 ? "seq" : did is null ? "did" : time is null ? "time" : active is null ? "active" : null;
        if (missing is not null)
        {
            throw Missing("#account", missing, bodyStart);
        }

        return new AccountEvent { Seq = seq, Did = did!, Time = time!, Active = active!.Value, Status = status };
    }

    private static InfoEvent ReadInfo(ref DagCborReader reader)
    {
        var bodyStart = reader.Position;
        var (name, message) = ReadStringAndMessage(ref reader, "name"u8);
        return name is null ? throw Missing("#info", "name", bodyStart) : new InfoEvent { Name = name, Message = message };
    }

    private static ErrorEvent ReadError(ref DagCborReader reader)
    {
        var bodyStart = reader.Position;
        var (error, message) = ReadStringAndMessage(ref reader, "error"u8);
        return error is null ? throw Missing("error frame", "error", bodyStart) : new ErrorEvent { Error = error, Message = message };
    }

    /// <summary>The body shape of <c>#info</c> and error frames: one named string and an optional <c>message</c>.</summary>
    private static (string? Value, string? Message) ReadStringAndMessage(ref DagCborReader reader, ReadOnlySpan<byte> valueKey)
    {
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        string? value = null, message = null;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual(valueKey))
            {
                value = reader.ReadString();
            }
            else if (key.SequenceEqual("message"u8))
            {
                message = reader.ReadNullableString();
            }
            else
            {
                reader.SkipValue();
            }
        }

        return (value, message);
    }

    private static LabelsEvent ReadLabels(ref DagCborReader reader, FrameDecodeOptions options)
    {
        var bodyStart = reader.Position;
        var entries = reader.ReadMapHeader();
        var order = default(MapKeyOrder);
        long seq = -1;
        Label[]? labels = null;
        for (var i = 0; i < entries; i++)
        {
            var key = reader.ReadMapKey(ref order);
            if (key.SequenceEqual("seq"u8))
            {
                seq = ReadSeq(ref reader);
            }
            else if (key.SequenceEqual("labels"u8))
            {
                var at = reader.Position;
                var count = reader.ReadArrayHeader();
                if (count > options.MaxLabels)
                {
                    throw new FrameFormatException($"{count} labels exceed the limit of {options.MaxLabels}", at);
                }

                labels = count == 0 ? [] : new Label[count];
                for (var j = 0; j < count; j++)
                {
                    // Read from its own copy: the signature covers the label's bytes without `sig` (Label.UnsignedBytes).
                    var labelAt = reader.Position;
                    var encoded = reader.ReadEncodedValue().ToArray();
                    var labelReader = new DagCborReader((ReadOnlyMemory<byte>)encoded, options.DagCbor, labelAt);
                    labels[j] = ReadLabel(ref labelReader, encoded);
                }
            }
            else
            {
                reader.SkipValue();
            }
        }

        if (seq < 0 || labels is null)
        {
            throw Missing("#labels", seq < 0 ? "seq" : "labels", bodyStart);
        }

        return new LabelsEvent { Seq = seq, Labels = labels };
    }

    private static Label ReadLabel(ref DagCborReader reader, byte[] encoded)
    {
        var start = reader.Position;
        var entries = reader.ReadMapHeader();
        var headerEnd = reader.Position;
        int sigStart = -1, sigEnd = -1;
        var order = default(MapKeyOrder);
        long? ver = null;
        string? src = null, uri = null, cid = null, val = null, cts = null, exp = null;
        var neg = false;
        ReadOnlyMemory<byte>? sig = null;
        for (var i = 0; i < entries; i++)
        {
            var entryStart = reader.Position;
            var key = reader.ReadMapKey(ref order);
            if (key.Length != 3)
            {
                reader.SkipValue();
            }
            else if (key.SequenceEqual("cid"u8))
            {
                cid = reader.ReadNullableString();
            }
            else if (key.SequenceEqual("cts"u8))
            {
                cts = reader.ReadString();
            }
            else if (key.SequenceEqual("exp"u8))
            {
                exp = reader.ReadNullableString();
            }
            else if (key.SequenceEqual("neg"u8))
            {
                neg = !reader.TryReadNull() && reader.ReadBoolean();
            }
            else if (key.SequenceEqual("sig"u8))
            {
                sig = reader.TryReadNull() ? null : reader.ReadBytesMemory();
                sigStart = entryStart;
                sigEnd = reader.Position;
            }
            else if (key.SequenceEqual("src"u8))
            {
                src = reader.ReadString();
            }
            else if (key.SequenceEqual("uri"u8))
            {
                uri = reader.ReadString();
            }
            else if (key.SequenceEqual("val"u8))
            {
                val = reader.ReadString();
            }
            else if (key.SequenceEqual("ver"u8))
            {
                ver = reader.TryReadNull() ? null : reader.ReadInt64();
            }
            else
            {
                reader.SkipValue();
            }
        }

        var missing = src is null ? "src" : uri is null ? "uri" : val is null ? "val" : cts is null ? "cts" : null;
        if (missing is not null)
        {
            throw Missing("label", missing, start);
        }

        return new Label
        {
            Ver = ver, Src = src!, Uri = uri!, Cid = cid, Val = val!, Neg = neg, Cts = cts!, Exp = exp, Sig = sig,
            UnsignedBytes = sigStart < 0 ? encoded : WithoutEntry(encoded, entries, headerEnd, sigStart, sigEnd),
        };
    }

    /// <summary>A canonical map's bytes without one entry: a header one shorter, then the other entries as they were.</summary>
    private static byte[] WithoutEntry(byte[] map, int entries, int headerEnd, int entryStart, int entryEnd)
    {
        Span<byte> header = stackalloc byte[9];
        var headerLength = DagCborWriter.WriteHeader(header, 5, (ulong)(entries - 1));
        var result = new byte[headerLength + (entryStart - headerEnd) + (map.Length - entryEnd)];
        header[..headerLength].CopyTo(result);
        map.AsSpan(headerEnd, entryStart - headerEnd).CopyTo(result.AsSpan(headerLength));
        map.AsSpan(entryEnd).CopyTo(result.AsSpan(headerLength + entryStart - headerEnd));
        return result;
    }

    private static UnknownEvent ReadUnknown(ref DagCborReader reader, ReadOnlyMemory<byte> frame, ReadOnlySpan<byte> type)
    {
        var start = reader.Position;
        reader.SkipValue();
        return new UnknownEvent { Type = System.Text.Encoding.UTF8.GetString(type), Body = frame[start..reader.Position] };
    }
}
