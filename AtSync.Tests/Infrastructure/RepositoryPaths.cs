namespace AtSync.Tests.Infrastructure;

/// <summary>Finds the repository root (the folder holding AtSync.sln) from the test assembly, and what lies beside it.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AtSync.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No AtSync.sln above {AppContext.BaseDirectory}: run the tests from a checkout of the repository.");
    });

    public static string Root => RootPath.Value;

    /// <summary>The build configuration the tests were built with (Debug/Release), read from the output path.</summary>
    public static string Configuration =>
        new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Name is { } name && name is "Debug" or "Release" ? name : "Debug";

    /// <summary>The built entry assembly of a service project, e.g. <c>AtSync.Firehose</c>.</summary>
    public static string ServiceAssembly(string project)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", project + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{project} is not built at {path}: build the solution first.", path);
    }
}
