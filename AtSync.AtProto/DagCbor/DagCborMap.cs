using System.Text;
using AtSync.AtProto.Cids;

namespace AtSync.AtProto.DagCbor;

/// <summary>
/// A DAG-CBOR map: string keys (UTF-8) in canonical order (shorter first, then bytewise), no duplicates.
/// Lookups are binary searches on that order and do not allocate when given UTF-8 keys.
/// </summary>
public sealed class DagCborMap
{
    private readonly ReadOnlyMemory<byte>[] _keys;
    private readonly DagCborValue[] _values;

    /// <summary>Wraps keys already in canonical order (the decoder's output).</summary>
    internal DagCborMap(ReadOnlyMemory<byte>[] keys, DagCborValue[] values)
    {
        _keys = keys;
        _values = values;
    }

    public static DagCborMap Empty { get; } = new([], []);

    /// <summary>Builds a map from entries in any order; throws <see cref="ArgumentException"/> on a duplicate key.</summary>
    public static DagCborMap Create(IEnumerable<KeyValuePair<string, DagCborValue>> entries)
    {
        var list = new List<KeyValuePair<byte[], DagCborValue>>();
        foreach (var (key, value) in entries)
        {
            list.Add(new(Encoding.UTF8.GetBytes(key), value));
        }

        list.Sort(static (a, b) => CompareKeys(a.Key, b.Key));
        var keys = new ReadOnlyMemory<byte>[list.Count];
        var values = new DagCborValue[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0 && CompareKeys(list[i - 1].Key, list[i].Key) == 0)
            {
                throw new ArgumentException($"Duplicate map key '{Encoding.UTF8.GetString(list[i].Key)}'.", nameof(entries));
            }

            keys[i] = list[i].Key;
            values[i] = list[i].Value;
        }

        return new DagCborMap(keys, values);
    }

    public static DagCborMap Create(params (string Key, DagCborValue Value)[] entries)
    {
        var pairs = new KeyValuePair<string, DagCborValue>[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            pairs[i] = new(entries[i].Key, entries[i].Value);
        }

        return Create(pairs);
    }

    /// <summary>DAG-CBOR canonical key order: shorter keys first, then bytewise.</summary>
    public static int CompareKeys(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        => a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);

    public int Count => _keys.Length;

    public ReadOnlySpan<byte> GetKeyUtf8(int index) => _keys[index].Span;

    public string GetKey(int index) => Encoding.UTF8.GetString(_keys[index].Span);

    public DagCborValue GetValue(int index) => _values[index];

    public int IndexOf(ReadOnlySpan<byte> utf8Key)
    {
        var lo = 0;
        var hi = _keys.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = CompareKeys(_keys[mid].Span, utf8Key);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    public bool ContainsKey(ReadOnlySpan<byte> utf8Key) => IndexOf(utf8Key) >= 0;

    public bool TryGetValue(ReadOnlySpan<byte> utf8Key, out DagCborValue value)
    {
        var i = IndexOf(utf8Key);
        value = i >= 0 ? _values[i] : default;
        return i >= 0;
    }

    public bool TryGetValue(string key, out DagCborValue value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        Span<byte> utf8 = max <= 256 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(key, utf8);
        return TryGetValue(utf8[..n], out value);
    }

    /// <summary>The value for <paramref name="utf8Key"/> if it is a string.</summary>
    public bool TryGetString(ReadOnlySpan<byte> utf8Key, out string value)
    {
        if (TryGetValue(utf8Key, out var v) && v.Kind == DagCborKind.String)
        {
            value = v.AsString();
            return true;
        }

        value = string.Empty;
        return false;
    }

    public bool TryGetInt64(ReadOnlySpan<byte> utf8Key, out long value)
    {
        if (TryGetValue(utf8Key, out var v) && v.Kind == DagCborKind.Integer)
        {
            value = v.AsInt64();
            return true;
        }

        value = 0;
        return false;
    }

    public bool TryGetCid(ReadOnlySpan<byte> utf8Key, out Cid value)
    {
        if (TryGetValue(utf8Key, out var v) && v.Kind == DagCborKind.Link)
        {
            value = v.AsCid();
            return true;
        }

        value = default;
        return false;
    }

    public bool TryGetMap(ReadOnlySpan<byte> utf8Key, out DagCborMap value)
    {
        if (TryGetValue(utf8Key, out var v) && v.Kind == DagCborKind.Map)
        {
            value = v.AsMap();
            return true;
        }

        value = Empty;
        return false;
    }
}
