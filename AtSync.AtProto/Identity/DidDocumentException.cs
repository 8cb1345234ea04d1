namespace AtSync.AtProto.Identity;

/// <summary>A DID document is not valid JSON or lacks what every DID document has (an <c>id</c> that is a DID).</summary>
public sealed class DidDocumentException : FormatException
{
    public DidDocumentException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
