namespace AtSync.AtProto;

/// <summary>Why input was rejected, as a value (the non-throwing Try* APIs): the reason and the byte offset (-1 if none).</summary>
public readonly record struct DecodeError(string Reason, long Offset)
{
    public override string ToString() => Offset >= 0 ? $"{Reason} (at offset {Offset})" : Reason;

    internal static DecodeError From(AtProtoDataException ex) => new(ex.Reason, ex.Offset);
}
