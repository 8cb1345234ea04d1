namespace AtSync.AtProto.Crypto;

/// <summary>A key or key encoding (did:key, multibase, multicodec, SEC1 point) is malformed or unsupported.</summary>
public sealed class KeyFormatException : FormatException
{
    public KeyFormatException(string message)
        : base(message)
    {
    }
}
