namespace AtSync.AtProto.Car;

/// <summary>A malformed CAR file, a block over the limits, or a block whose bytes do not hash to its CID.</summary>
public sealed class CarException : AtProtoDataException
{
    public CarException(string reason, long offset = -1, Exception? inner = null) : base(reason, offset, inner) { }
}
