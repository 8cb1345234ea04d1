namespace AtSync.AtProto.EventStream;

/// <summary>An event-stream frame whose header or body does not have the shape the lexicon requires.</summary>
public sealed class FrameFormatException : AtProtoDataException
{
    public FrameFormatException(string reason, long offset = -1, Exception? inner = null) : base(reason, offset, inner) { }
}
