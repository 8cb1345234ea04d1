using YamlDotNet.RepresentationModel;

namespace AtSync.Tests.Deployment;

/// <summary>One service of a Docker Compose file, as the deployment rules read it.</summary>
public sealed record ComposeService(
    string Name,
    string? Image,
    bool HasBuild,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> HealthTest,
    string? Restart,
    string? StopGracePeriod,
    string? CpuLimit,
    string? MemoryLimit,
    IReadOnlyDictionary<string, string?> DependsOn,
    string? User,
    IReadOnlyList<string> Ports,
    IReadOnlyList<(string Type, string? Source, string? Target)> Volumes)
{
    /// <summary>Compose profiles the service belongs to (none: it always starts).</summary>
    public IReadOnlyList<string> Profiles { get; init; } = [];

    /// <summary>The <c>command</c> list (arguments to the image's entrypoint).</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Ports reachable on the compose network (<c>expose</c>).</summary>
    public IReadOnlyList<string> Expose { get; init; } = [];

    /// <summary><c>healthcheck.retries</c>.</summary>
    public string? HealthRetries { get; init; }
}

/// <summary>A Docker Compose file parsed with YamlDotNet's representation model (no schema of our own to drift).</summary>
public sealed class ComposeFile
{
    private ComposeFile(string text, IReadOnlyList<ComposeService> services)
    {
        Text = text;
        Services = services;
    }

    public string Text { get; }
    public IReadOnlyList<ComposeService> Services { get; }

    public ComposeService this[string name] =>
        Services.SingleOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"compose file has no service '{name}'");

    public static ComposeFile Load(string path) => Parse(File.ReadAllText(path));

    public static ComposeFile Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var root = (YamlMappingNode)stream.Documents.Single().RootNode;
        var services = Mapping(root, "services") ?? throw new FormatException("compose file has no services");
        return new ComposeFile(text, services.Children.Select(kv => ReadService(Scalar(kv.Key)!, (YamlMappingNode)kv.Value)).ToList());
    }

    private static ComposeService ReadService(string name, YamlMappingNode node)
    {
        var limits = Mapping(Mapping(Mapping(node, "deploy"), "resources"), "limits");
        var environment = Mapping(node, "environment")?.Children.ToDictionary(kv => Scalar(kv.Key)!, kv => Scalar(kv.Value) ?? "")
            ?? new Dictionary<string, string>();
        var dependsOn = new Dictionary<string, string?>();
        switch (Child(node, "depends_on"))
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children) dependsOn[Scalar(key)!] = Scalar(Child(value as YamlMappingNode, "condition"));
                break;
            case YamlSequenceNode list:
                foreach (var item in list.Children) dependsOn[Scalar(item)!] = null; // short form: started, not healthy
                break;
        }
        var volumes = (Child(node, "volumes") as YamlSequenceNode)?.Children.Select(v => v is YamlMappingNode m
                ? (Scalar(Child(m, "type")) ?? "volume", Scalar(Child(m, "source")), Scalar(Child(m, "target")))
                : ("short", Scalar(v), (string?)null)).ToList()
            ?? [];
        return new ComposeService(
            name,
            Scalar(Child(node, "image")),
            Child(node, "build") is not null,
            environment,
            Sequence(Child(Mapping(node, "healthcheck"), "test")),
            Scalar(Child(node, "restart")),
            Scalar(Child(node, "stop_grace_period")),
            Scalar(Child(limits, "cpus")),
            Scalar(Child(limits, "memory")),
            dependsOn,
            Scalar(Child(node, "user")),
            Sequence(Child(node, "ports")),
            volumes)
        {
            Profiles = Sequence(Child(node, "profiles")),
            Command = Sequence(Child(node, "command")),
            Expose = Sequence(Child(node, "expose")),
            HealthRetries = Scalar(Child(Mapping(node, "healthcheck"), "retries")),
        };
    }

    private static YamlNode? Child(YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    private static YamlMappingNode? Mapping(YamlMappingNode? node, string key) => Child(node, key) as YamlMappingNode;

    private static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;

    private static IReadOnlyList<string> Sequence(YamlNode? node) => node switch
    {
        YamlSequenceNode list => list.Children.Select(c => Scalar(c) ?? "").ToList(),
        YamlScalarNode scalar when scalar.Value is { } value => [value],
        _ => [],
    };
}
