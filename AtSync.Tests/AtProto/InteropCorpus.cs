using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.AtProto;

/// <summary>Locates <c>../shared/corpus/interop</c> beside the repository root.</summary>
internal static class InteropCorpus
{
    public static string Path(params string[] parts)
    {
        var root = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryPaths.Root, "..", "shared", "corpus", "interop"));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The interop corpus is missing: expected {root} (../shared/corpus beside the repository).");
        }
        return System.IO.Path.Combine([root, .. parts]);
    }

    /// <summary>The values in a syntax fixture file: every line except blank ones and <c>#</c> comments, untrimmed.</summary>
    public static IReadOnlyList<string> SyntaxLines(string file) =>
        File.ReadAllLines(Path("syntax", file))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToArray();
}
