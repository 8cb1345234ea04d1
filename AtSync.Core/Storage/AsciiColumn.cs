using System.Text;

namespace AtSync.Core.Storage;

/// <summary>
/// Values from the network for AtSync's <c>ascii_bin</c> columns (<see cref="TableOptions.Ascii"/>: DIDs, AT-URIs, CIDs,
/// handles, label values). Strict mode refuses a character the column cannot hold (error 1366) or one too many (1406),
/// which would fail a whole batch: check before writing.
/// </summary>
public static class AsciiColumn
{
    /// <summary>Whether <paramref name="value"/> goes into an ASCII column of <paramref name="maxLength"/> characters unchanged.</summary>
    public static bool Fits(string value, int maxLength) => value.Length <= maxLength && Ascii.IsValid(value);

    /// <summary>Free text for an ASCII column: other characters (and controls) as '?', cut to <paramref name="maxLength"/>.</summary>
    public static string Lossy(string value, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var c in value)
        {
            if (builder.Length == maxLength) break;
            builder.Append(char.IsAscii(c) && !char.IsControl(c) ? c : '?');
        }
        return builder.ToString();
    }
}
