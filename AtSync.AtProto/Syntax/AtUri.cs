using System.Diagnostics.CodeAnalysis;

namespace AtSync.AtProto.Syntax;

/// <summary>
/// An AT-URI in the restricted form records use: <c>at://{authority}[/{collection}[/{rkey}]]</c>, where the
/// authority is a DID or handle, the collection an NSID and the rkey a record key; no query, fragment or trailing
/// slash; at most 8 KiB.
/// </summary>
public sealed record AtUri
{
    public const int MaxLength = 8 * 1024;
    private const string Prefix = "at://";

    private AtUri(string value, string authority, Did? did, Nsid? collection, RecordKey? rkey)
    {
        Value = value;
        Authority = authority;
        AuthorityDid = did;
        Collection = collection;
        RecordKey = rkey;
    }

    /// <summary>The whole URI.</summary>
    public string Value { get; }

    /// <summary>The authority as written: a DID or a handle.</summary>
    public string Authority { get; }

    /// <summary>The authority when it is a DID.</summary>
    public Did? AuthorityDid { get; }

    public Nsid? Collection { get; }

    public RecordKey? RecordKey { get; }

    public override string ToString() => Value;

    /// <summary>Formats <c>at://{repo}/{collection}/{rkey}</c>.</summary>
    public static AtUri Create(Did repo, Nsid collection, RecordKey rkey) =>
        new($"{Prefix}{repo.Value}/{collection.Value}/{rkey.Value}", repo.Value, repo, collection, rkey);

    public static bool IsValid(string? s) => TryParse(s, out _);

    public static AtUri Parse(string s) => TryParse(s, out var u) ? u : throw new AtSyntaxException("AT-URI", s);

    public static bool TryParse([NotNullWhen(true)] string? s, [NotNullWhen(true)] out AtUri? result)
    {
        result = null;
        if (s is null || s.Length > MaxLength || !s.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var rest = s.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        Did? did = null;
        if (authority.StartsWith("did:"))
        {
            if (!Did.TryParse(authority.ToString(), out var d))
            {
                return false;
            }
            did = d;
        }
        else if (!Handle.IsValid(authority))
        {
            return false;
        }
        if (slash < 0)
        {
            result = new AtUri(s, authority.ToString(), did, null, null);
            return true;
        }

        var path = rest[(slash + 1)..];
        var slash2 = path.IndexOf('/');
        var collectionText = slash2 < 0 ? path : path[..slash2];
        if (!Nsid.TryParse(collectionText.ToString(), out var collection))
        {
            return false;
        }
        if (slash2 < 0)
        {
            result = new AtUri(s, authority.ToString(), did, collection, null);
            return true;
        }
        if (!Syntax.RecordKey.TryParse(path[(slash2 + 1)..].ToString(), out var rkey))
        {
            return false;
        }
        result = new AtUri(s, authority.ToString(), did, collection, rkey);
        return true;
    }
}
