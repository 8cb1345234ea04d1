using System.Text.Json;
using AtSync.AtProto.Crypto;
using AtSync.AtProto.Syntax;

namespace AtSync.AtProto.Identity;

/// <summary>
/// The parts of a DID document AT Protocol uses: the claimed handle (<c>alsoKnownAs</c> <c>at://…</c>), the PDS
/// (<c>#atproto_pds</c> service) and the repo signing key (<c>#atproto</c> verification method).
/// The handle is as claimed by the document; confirming it (DNS / well-known) is a separate step.
/// </summary>
public sealed class DidDocument
{
    public const int MaxBytes = 256 * 1024;
    private const string PdsServiceType = "AtprotoPersonalDataServer";

    private DidDocument(Did id, IReadOnlyList<string> alsoKnownAs, Handle? handle, Uri? pdsEndpoint, PublicKey? signingKey, string? signingKeyProblem,
        PublicKey? labelKey, string? labelKeyProblem)
    {
        LabelKey = labelKey;
        LabelKeyProblem = labelKeyProblem;
        Id = id;
        AlsoKnownAs = alsoKnownAs;
        Handle = handle;
        PdsEndpoint = pdsEndpoint;
        SigningKey = signingKey;
        SigningKeyProblem = signingKeyProblem;
    }

    public Did Id { get; }

    /// <summary>Every <c>alsoKnownAs</c> string, in order.</summary>
    public IReadOnlyList<string> AlsoKnownAs { get; }

    /// <summary>The first <c>at://</c> alias that is a valid handle (lowercased), or null.</summary>
    public Handle? Handle { get; }

    /// <summary>The <c>#atproto_pds</c> service endpoint (http or https), or null.</summary>
    public Uri? PdsEndpoint { get; }

    /// <summary>The <c>#atproto</c> verification method's key, or null (see <see cref="SigningKeyProblem"/>).</summary>
    public PublicKey? SigningKey { get; }

    /// <summary>Why <see cref="SigningKey"/> is null: no <c>#atproto</c> method, or its key is malformed/unsupported.</summary>
    public string? SigningKeyProblem { get; }

    /// <summary>The <c>#atproto_label</c> verification method's key (a labeler's), or null (see <see cref="LabelKeyProblem"/>).</summary>
    public PublicKey? LabelKey { get; }

    public string? LabelKeyProblem { get; }

    public override string ToString() => $"DidDocument {{ {Id}, handle {Handle?.Value ?? "-"}, pds {PdsEndpoint?.ToString() ?? "-"} }}";

    public static DidDocument Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > MaxBytes)
        {
            throw new DidDocumentException($"The DID document is larger than {MaxBytes} bytes.");
        }
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 32 });
            using var doc = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                throw new DidDocumentException("The DID document has content after the JSON object.");
            }
            return FromJson(doc.RootElement);
        }
        catch (JsonException ex)
        {
            throw new DidDocumentException("The DID document is not valid JSON.", ex);
        }
    }

    public static DidDocument Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json));
    }

    public static DidDocument FromJson(JsonElement root)
    {
        try
        {
            return FromJsonCore(root);
        }
        catch (InvalidOperationException ex)
        {
            // JsonElement.GetString on a string that is not valid UTF-8.
            throw new DidDocumentException("The DID document holds invalid text.", ex);
        }
    }

    private static DidDocument FromJsonCore(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new DidDocumentException("A DID document is a JSON object.");
        }
        if (!root.TryGetProperty("id", out var idElement) || idElement.ValueKind != JsonValueKind.String
            || !Did.TryParse(idElement.GetString(), out var id))
        {
            throw new DidDocumentException("The DID document has no valid 'id'.");
        }

        var aliases = new List<string>();
        Handle? handle = null;
        if (root.TryGetProperty("alsoKnownAs", out var aka) && aka.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in aka.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    continue;
                }
                var alias = item.GetString()!;
                aliases.Add(alias);
                if (handle is null && alias.StartsWith("at://", StringComparison.Ordinal)
                    && Syntax.Handle.TryParse(alias[5..], out var h))
                {
                    handle = h;
                }
            }
        }

        var (key, keyProblem) = FindKey(root, id, "atproto");
        var (labelKey, labelKeyProblem) = FindKey(root, id, "atproto_label");
        return new DidDocument(id, aliases, handle, FindPds(root, id), key, keyProblem, labelKey, labelKeyProblem);
    }

    private static bool IdMatches(JsonElement entry, Did did, string fragment) =>
        entry.TryGetProperty("id", out var idEl) && idEl.ValueKind == JsonValueKind.String
        && idEl.GetString() is { } id
        && (id == "#" + fragment || id == did.Value + "#" + fragment);

    private static (PublicKey? Key, string? Problem) FindKey(JsonElement root, Did did, string fragment)
    {
        if (!root.TryGetProperty("verificationMethod", out var methods) || methods.ValueKind != JsonValueKind.Array)
        {
            return (null, "no verificationMethod");
        }
        foreach (var method in methods.EnumerateArray())
        {
            if (method.ValueKind != JsonValueKind.Object || !IdMatches(method, did, fragment))
            {
                continue;
            }
            if (!method.TryGetProperty("publicKeyMultibase", out var mb) || mb.ValueKind != JsonValueKind.String)
            {
                return (null, $"#{fragment} has no publicKeyMultibase");
            }
            var type = method.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var multibase = mb.GetString()!;
            try
            {
                return type switch
                {
                    "Multikey" => (PublicKey.ParseMultikey(multibase), null),
                    "EcdsaSecp256r1VerificationKey2019" => (ParseLegacy(KeyCurve.P256, multibase), null),
                    "EcdsaSecp256k1VerificationKey2019" => (ParseLegacy(KeyCurve.Secp256k1, multibase), null),
                    _ => (null, $"#{fragment} has unsupported type '{AtSyntaxException.Preview(type)}'"),
                };
            }
            catch (KeyFormatException ex)
            {
                return (null, $"#{fragment} key: " + ex.Message);
            }
        }
        return (null, $"no #{fragment} verification method");
    }

    /// <summary>Legacy suites carry the bare SEC1 point; some writers add the multicodec anyway.</summary>
    private static PublicKey ParseLegacy(KeyCurve curve, string multibase)
    {
        try
        {
            return PublicKey.ParseLegacyMultibase(curve, multibase);
        }
        catch (KeyFormatException)
        {
            var key = PublicKey.ParseMultikey(multibase);
            return key.Curve == curve ? key : throw new KeyFormatException("the key's curve does not match its type");
        }
    }

    private static Uri? FindPds(JsonElement root, Did did)
    {
        if (!root.TryGetProperty("service", out var services) || services.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        foreach (var service in services.EnumerateArray())
        {
            if (service.ValueKind != JsonValueKind.Object || !IdMatches(service, did, "atproto_pds"))
            {
                continue;
            }
            if (service.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == PdsServiceType
                && service.TryGetProperty("serviceEndpoint", out var ep) && ep.ValueKind == JsonValueKind.String
                && Uri.TryCreate(ep.GetString(), UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                && string.IsNullOrEmpty(uri.UserInfo))
            {
                return uri;
            }
            return null;
        }
        return null;
    }
}
