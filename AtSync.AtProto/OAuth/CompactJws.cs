using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;

namespace AtSync.AtProto.OAuth;

/// <summary>Compact JWS (RFC 7515) with ES256: the DPoP proofs and client assertions this client signs.</summary>
public static class CompactJws
{
    public static string Sign(JsonObject header, JsonObject payload, DpopKey key)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(key);
        header["alg"] = DpopKey.Algorithm;
        var signingInput = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString()))
            + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = key.Sign(Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }
}
