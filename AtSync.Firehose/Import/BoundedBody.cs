namespace AtSync.Firehose.Import;

/// <summary>Reads a response body into memory, never past a bound: null as soon as it would exceed <c>maxBytes</c>.</summary>
public static class BoundedBody
{
    public static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, int maxBytes, CancellationToken cancellationToken)
    {
        // Start from the declared length (already checked against the bound) or a modest buffer; grow by doubling, capped.
        var buffer = new byte[(int)Math.Clamp(declaredLength ?? 64 * 1024, 1024, maxBytes + 1L)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length > maxBytes) return null;
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxBytes + 1L));
            }
            var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) break;
            length += read;
            if (length > maxBytes) return null;
        }
        if (length != buffer.Length) Array.Resize(ref buffer, length);
        return buffer;
    }
}
