using AtSync.AtProto.Cids;
using AtSync.AtProto.DagCbor;

namespace AtSync.AtProto.EventStream;

/// <summary>
/// Encodes events as event-stream frames (header + body, canonical DAG-CBOR) — what a relay or labeler sends.
/// Used by tests and loopback peers. Commit frames carry the deprecated <c>tooBig</c>/<c>rebase</c>/<c>blobs</c>
/// fields as <c>false</c>/<c>false</c>/<c>[]</c>, like current relays.
/// </summary>
public static class FrameEncoder
{
    public static byte[] Encode(FirehoseEvent evt)
    {
        var w = new DagCborWriter(512);
        switch (evt)
        {
            case CommitEvent c:
                WriteMessageHeader(w, "#commit");
                WriteCommit(w, c);
                break;
            case SyncEvent s:
                WriteMessageHeader(w, "#sync");
                w.WriteStartMap(5);
                w.WriteString("did");
                w.WriteString(s.Did);
                w.WriteString("rev");
                w.WriteString(s.Rev);
                w.WriteString("seq");
                w.WriteInt64(s.Seq);
                w.WriteString("time");
                w.WriteString(s.Time);
                w.WriteString("blocks");
                w.WriteBytes(s.Blocks.Bytes.Span);
                break;
            case IdentityEvent i:
                WriteMessageHeader(w, "#identity");
                w.WriteStartMap(i.Handle is null ? 3 : 4);
                w.WriteString("did");
                w.WriteString(i.Did);
                w.WriteString("seq");
                w.WriteInt64(i.Seq);
                w.WriteString("time");
                w.WriteString(i.Time);
                if (i.Handle is not null)
                {
                    w.WriteString("handle");
                    w.WriteString(i.Handle);
                }

                break;
            case AccountEvent a:
                WriteMessageHeader(w, "#account");
                w.WriteStartMap(a.Status is null ? 4 : 5);
                w.WriteString("did");
                w.WriteString(a.Did);
                w.WriteString("seq");
                w.WriteInt64(a.Seq);
                w.WriteString("time");
                w.WriteString(a.Time);
                w.WriteString("active");
                w.WriteBoolean(a.Active);
                if (a.Status is not null)
                {
                    w.WriteString("status");
                    w.WriteString(a.Status);
                }

                break;
            case InfoEvent info:
                WriteMessageHeader(w, "#info");
                w.WriteStartMap(info.Message is null ? 1 : 2);
                w.WriteString("name");
                w.WriteString(info.Name);
                if (info.Message is not null)
                {
                    w.WriteString("message");
                    w.WriteString(info.Message);
                }

                break;
            case ErrorEvent e:
                w.WriteStartMap(1);
                w.WriteString("op");
                w.WriteInt64(-1);
                w.WriteStartMap(e.Message is null ? 1 : 2);
                w.WriteString("error");
                w.WriteString(e.Error);
                if (e.Message is not null)
                {
                    w.WriteString("message");
                    w.WriteString(e.Message);
                }

                break;
            case LabelsEvent l:
                WriteMessageHeader(w, "#labels");
                w.WriteStartMap(2);
                w.WriteString("seq");
                w.WriteInt64(l.Seq);
                w.WriteString("labels");
                w.WriteStartArray(l.Labels.Count);
                foreach (var label in l.Labels)
                {
                    WriteLabel(w, label);
                }

                break;
            case UnknownEvent u:
                WriteMessageHeader(w, u.Type);
                w.WriteEncodedValue(u.Body.Span);
                break;
            default:
                throw new ArgumentException($"Cannot encode {evt.GetType().Name}.", nameof(evt));
        }

        return w.ToArray();
    }

    private static void WriteMessageHeader(DagCborWriter w, string type)
    {
        w.WriteStartMap(2);
        w.WriteString("t");
        w.WriteString(type);
        w.WriteString("op");
        w.WriteInt64(1);
    }

    private static void WriteCommit(DagCborWriter w, CommitEvent c)
    {
        // Canonical key order: ops rev seq repo time blobs since blocks commit rebase tooBig prevData.
        w.WriteStartMap(c.PrevData is null ? 11 : 12);
        w.WriteString("ops");
        w.WriteStartArray(c.Ops.Count);
        foreach (var op in c.Ops)
        {
            w.WriteStartMap(op.Prev is null ? 3 : 4);
            w.WriteString("cid");
            WriteNullableCid(w, op.Cid);
            w.WriteString("path");
            w.WriteString(op.Path);
            if (op.Prev is { } prev)
            {
                w.WriteString("prev");
                w.WriteCid(prev);
            }

            w.WriteString("action");
            w.WriteString(op.Action switch
            {
                RepoAction.Create => "create",
                RepoAction.Update => "update",
                _ => "delete",
            });
        }

        w.WriteString("rev");
        w.WriteString(c.Rev);
        w.WriteString("seq");
        w.WriteInt64(c.Seq);
        w.WriteString("repo");
        w.WriteString(c.Repo);
        w.WriteString("time");
        w.WriteString(c.Time);
        w.WriteString("blobs");
        w.WriteStartArray(0);
        w.WriteString("since");
        if (c.Since is null)
        {
            w.WriteNull();
        }
        else
        {
            w.WriteString(c.Since);
        }

        w.WriteString("blocks");
        w.WriteBytes(c.Blocks.Bytes.Span);
        w.WriteString("commit");
        w.WriteCid(c.Commit);
        w.WriteString("rebase");
        w.WriteBoolean(false);
        w.WriteString("tooBig");
        w.WriteBoolean(false);
        if (c.PrevData is { } prevData)
        {
            w.WriteString("prevData");
            w.WriteCid(prevData);
        }
    }

    /// <summary>One label as DAG-CBOR (what a labeler signs when <see cref="Label.Sig"/> is null).</summary>
    public static byte[] EncodeLabel(Label label)
    {
        ArgumentNullException.ThrowIfNull(label);
        var w = new DagCborWriter();
        WriteLabel(w, label);
        return w.ToArray();
    }

    private static void WriteLabel(DagCborWriter w, Label l)
    {
        // All keys are three bytes: cid cts exp neg sig src uri val ver.
        var count = 4 + (l.Cid is null ? 0 : 1) + (l.Exp is null ? 0 : 1) + (l.Neg ? 1 : 0) + (l.Sig is null ? 0 : 1) + (l.Ver is null ? 0 : 1);
        w.WriteStartMap(count);
        if (l.Cid is not null)
        {
            w.WriteString("cid");
            w.WriteString(l.Cid);
        }

        w.WriteString("cts");
        w.WriteString(l.Cts);
        if (l.Exp is not null)
        {
            w.WriteString("exp");
            w.WriteString(l.Exp);
        }

        if (l.Neg)
        {
            w.WriteString("neg");
            w.WriteBoolean(true);
        }

        if (l.Sig is { } sig)
        {
            w.WriteString("sig");
            w.WriteBytes(sig.Span);
        }

        w.WriteString("src");
        w.WriteString(l.Src);
        w.WriteString("uri");
        w.WriteString(l.Uri);
        w.WriteString("val");
        w.WriteString(l.Val);
        if (l.Ver is { } ver)
        {
            w.WriteString("ver");
            w.WriteInt64(ver);
        }
    }

    private static void WriteNullableCid(DagCborWriter w, Cid? cid)
    {
        if (cid is { } c)
        {
            w.WriteCid(c);
        }
        else
        {
            w.WriteNull();
        }
    }
}
