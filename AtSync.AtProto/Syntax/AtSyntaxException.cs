namespace AtSync.AtProto.Syntax;

/// <summary>A string is not a valid AT Protocol identifier of the expected kind (DID, handle, NSID, …).</summary>
public sealed class AtSyntaxException : FormatException
{
    public AtSyntaxException(string kind, string? value)
        : base($"Invalid {kind}: {Preview(value)}")
    {
        Kind = kind;
    }

    /// <summary>What was being parsed (<c>DID</c>, <c>handle</c>, …).</summary>
    public string Kind { get; }

    /// <summary>A short, printable rendering of untrusted input for messages.</summary>
    internal static string Preview(string? value)
    {
        if (value is null)
        {
            return "(null)";
        }
        const int max = 80;
        var sb = new System.Text.StringBuilder("'");
        foreach (var c in value.AsSpan(0, Math.Min(value.Length, max)))
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        sb.Append(value.Length > max ? "'…" : "'");
        return sb.ToString();
    }
}
