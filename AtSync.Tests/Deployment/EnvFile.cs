namespace AtSync.Tests.Deployment;

/// <summary>One variable of a <c>.env</c> file: its value as written and the comment lines directly above it.</summary>
public sealed record EnvEntry(string Name, string Value, IReadOnlyList<string> Comments);

/// <summary>Reads <c>.env</c>-style files: <c># comment</c> lines, <c>NAME=value</c> lines, blank lines.</summary>
public static class EnvFile
{
    public static IReadOnlyList<EnvEntry> Load(string path) => Parse(File.ReadAllLines(path));

    public static IReadOnlyList<EnvEntry> Parse(IEnumerable<string> lines)
    {
        var entries = new List<EnvEntry>();
        var comments = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                comments.Clear();
            }
            else if (line.StartsWith('#'))
            {
                comments.Add(line[1..].Trim());
            }
            else
            {
                var equals = line.IndexOf('=');
                if (equals <= 0) throw new FormatException($"not a NAME=value line: {line}");
                entries.Add(new EnvEntry(line[..equals], line[(equals + 1)..], comments.ToList()));
                comments.Clear();
            }
        }
        return entries;
    }
}
