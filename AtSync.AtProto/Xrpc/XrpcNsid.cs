namespace AtSync.AtProto.Xrpc;

/// <summary>Cheap NSID shape check guarding the request path (full validation lives in Syntax).</summary>
internal static class XrpcNsid
{
    public static bool IsValid(string? nsid)
    {
        if (string.IsNullOrEmpty(nsid) || nsid.Length > 317)
        {
            return false;
        }
        var segments = 1;
        var segLen = 0;
        foreach (var c in nsid)
        {
            if (c == '.')
            {
                if (segLen == 0) { return false; }
                segments++;
                segLen = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                segLen++;
            }
            else
            {
                return false;
            }
        }
        return segLen > 0 && segments >= 3;
    }
}
