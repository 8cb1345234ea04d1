namespace AtSync.AtProto.OAuth;

/// <summary>
/// The scope to ask for: <c>atproto</c> plus the narrowest write permission the server offers for the given
/// collections. A server that lists granular permissions in <c>scopes_supported</c> (any <c>repo:</c> entry, or
/// <c>repo</c>) gets one <c>repo:&lt;collection&gt;</c> per collection; otherwise <c>transition:generic</c>.
/// </summary>
public static class OAuthScopes
{
    public const string Atproto = "atproto";
    public const string TransitionGeneric = "transition:generic";

    public static string For(IReadOnlyList<string> scopesSupported, IEnumerable<string> collections)
    {
        ArgumentNullException.ThrowIfNull(scopesSupported);
        var granular = scopesSupported.Any(s => s == "repo" || s.StartsWith("repo:", StringComparison.Ordinal));
        var parts = new List<string> { Atproto };
        if (granular)
        {
            parts.AddRange(collections.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(c => "repo:" + c));
        }
        else
        {
            parts.Add(TransitionGeneric);
        }
        return string.Join(' ', parts);
    }

    /// <summary>Whether <paramref name="granted"/> allows writes to <paramref name="collection"/>.</summary>
    public static bool AllowsWrites(string granted, string collection)
    {
        var scopes = (granted ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return scopes.Contains(Atproto, StringComparer.Ordinal)
            && (scopes.Contains(TransitionGeneric, StringComparer.Ordinal)
                || scopes.Any(s => s == "repo:*" || s == "repo:" + collection || s.StartsWith("repo:" + collection + "?", StringComparison.Ordinal)));
    }
}
