using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

/// <summary>Locates <c>testdata/interop</c> in the repository.</summary>
internal static class InteropCorpus
{
    public static string Path(params string[] parts)
    {
        var root = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryPaths.Root, "testdata", "interop"));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The interop corpus is missing: expected {root} (testdata/interop in the repository).");
        }
        return System.IO.Path.Combine([root, .. parts]);
    }

    /// <summary>The values in a syntax fixture file: every line except blank ones and <c>#</c> comments, untrimmed.</summary>
    public static IReadOnlyList<string> SyntaxLines(string file) =>
        File.ReadAllLines(Path("syntax", file))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToArray();
}
