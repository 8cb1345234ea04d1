using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using AtSync.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace AtSync.Tests.Operations;

/// <summary>The repository's monitoring files (ops/): alert rules, the dashboard, and what their queries name.</summary>
public static partial class OpsFiles
{
    public static string PrometheusDir => Path.Combine(RepositoryPaths.Root, "ops", "prometheus");
    public static string AlertsFile => Path.Combine(PrometheusDir, "alerts.yml");
    public static string AlertTestsFile => Path.Combine(PrometheusDir, "alerts.test.yml");
    public static string DashboardFile => Path.Combine(RepositoryPaths.Root, "ops", "grafana", "dashboards", "atsync.json");

    /// <summary>Series that come from exporters beside the services (README.md, "Monitoring"), never from their /metrics.</summary>
    public static readonly string[] ExternalExporterPrefixes = ["container_", "mysql_"];

    public sealed record AlertRule(string Name, string Expr, string? For);

    public static IReadOnlyList<AlertRule> AlertRules()
    {
        var root = LoadYaml(AlertsFile);
        var rules = new List<AlertRule>();
        foreach (YamlMappingNode group in (YamlSequenceNode)root["groups"])
        {
            foreach (YamlMappingNode rule in (YamlSequenceNode)group["rules"])
            {
                rules.Add(new AlertRule(Scalar(rule, "alert")!, Scalar(rule, "expr")!, Scalar(rule, "for")));
            }
        }
        return rules;
    }

    /// <summary>Every PromQL expression of the dashboard's panels.</summary>
    public static IReadOnlyList<(string Panel, string Expr)> DashboardQueries()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var queries = new List<(string, string)>();
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                queries.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
            }
        }
        return queries;
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "le", "inf", "nan",
    };

    /// <summary>
    /// The metric names a PromQL expression selects: identifiers outside label matchers, ranges, grouping clauses and
    /// strings that are not function calls or keywords.
    /// </summary>
    public static IReadOnlySet<string> MetricNames(string expr)
    {
        var text = StringLiteral().Replace(expr, " ");
        text = Braces().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = Grouping().Replace(text, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Identifier().Matches(text))
        {
            var name = match.Groups[1].Value;
            var isCall = match.Groups[2].Success;
            if (isCall || Keywords.Contains(name.ToLowerInvariant()) || name.StartsWith("$__", StringComparison.Ordinal)) continue;
            names.Add(name);
        }
        return names;
    }

    /// <summary>Sample names of a Prometheus text exposition (histograms as their _bucket/_sum/_count series).</summary>
    public static IReadOnlySet<string> SampleNames(string exposition) =>
        exposition.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => SampleName().Match(line).Value)
            .Where(name => name.Length > 0)
            .ToHashSet(StringComparer.Ordinal);

    public static (int ExitCode, string Output) Promtool(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("promtool")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("promtool is not installed: apt-get install -y prometheus (.ci/run installs it).");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("promtool did not finish within 2 minutes");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }

    public static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(path));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex SampleName();
}
