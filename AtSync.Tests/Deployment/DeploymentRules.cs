using System.Text.RegularExpressions;

namespace AtSync.Tests.Deployment;

/// <summary>
/// The deployment rules of the AppHost issue, checked on a compose file and its <c>.env.example</c>. Each rule returns
/// readable violations ("service: what is wrong"); an empty list means the deployment follows the rules.
/// </summary>
public static partial class DeploymentRules
{
    public static readonly TimeSpan MaxStopGracePeriod = TimeSpan.FromSeconds(30);

    /// <summary>Environment names that hold secrets: their values may only be <c>${VAR}</c> references.</summary>
    [GeneratedRegex("PASSWORD|PASSWD|ACCESS_TOKEN|REFRESH_TOKEN|SECRET|_KEYS?$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    /// <summary><c>${NAME}</c>, <c>${NAME:-default}</c>, <c>${NAME-default}</c>, … but not the escaped <c>$${NAME}</c>.</summary>
    [GeneratedRegex(@"(?<!\$)\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<modifier>:?[-+?=](?<default>[^}]*))?\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"^(?<number>\d+(\.\d+)?)(?<unit>us|ms|s|m|h)$")]
    private static partial Regex SimpleDuration();

    public static IReadOnlyList<string> HealthChecks(ComposeFile compose, IReadOnlyDictionary<string, string> exemptions) =>
        compose.Services
            .Where(s => !exemptions.ContainsKey(s.Name))
            .Where(s => s.HealthTest.Count == 0 || s.HealthTest[0] is "NONE" || s.HealthTest[0] is not ("CMD" or "CMD-SHELL") || s.HealthTest.Count < 2)
            .Select(s => $"{s.Name}: no health check (healthcheck.test must be CMD or CMD-SHELL with a command)")
            .ToList();

    public static IReadOnlyList<string> RestartPolicies(ComposeFile compose) =>
        compose.Services.Where(s => s.Restart != "unless-stopped")
            .Select(s => $"{s.Name}: restart is '{s.Restart ?? "(none)"}', not 'unless-stopped'").ToList();

    public static IReadOnlyList<string> StopGracePeriods(ComposeFile compose)
    {
        var violations = new List<string>();
        foreach (var service in compose.Services)
        {
            if (service.StopGracePeriod is null) violations.Add($"{service.Name}: no stop_grace_period (Docker's default is 10s, then SIGKILL)");
            else if (ParseDuration(service.StopGracePeriod) is not { } period) violations.Add($"{service.Name}: stop_grace_period '{service.StopGracePeriod}' is not a duration");
            else if (period > MaxStopGracePeriod) violations.Add($"{service.Name}: stop_grace_period {period.TotalSeconds}s is over {MaxStopGracePeriod.TotalSeconds}s");
        }
        return violations;
    }

    public static IReadOnlyList<string> ResourceLimits(ComposeFile compose) =>
        compose.Services.Where(s => string.IsNullOrWhiteSpace(s.CpuLimit) || string.IsNullOrWhiteSpace(s.MemoryLimit))
            .Select(s => $"{s.Name}: deploy.resources.limits needs both cpus and memory").ToList();

    /// <summary>Every dependency waits for a healthy service, and the service waited for has a health check.</summary>
    public static IReadOnlyList<string> HealthyDependencies(ComposeFile compose)
    {
        var violations = new List<string>();
        foreach (var service in compose.Services)
        {
            foreach (var (dependency, condition) in service.DependsOn)
            {
                if (condition != "service_healthy") violations.Add($"{service.Name}: depends on {dependency} with condition '{condition ?? "(none)"}', not service_healthy");
                var target = compose.Services.SingleOrDefault(s => s.Name == dependency);
                if (target is null) violations.Add($"{service.Name}: depends on unknown service {dependency}");
                else if (target.HealthTest.Count == 0 || target.HealthTest[0] == "NONE") violations.Add($"{service.Name}: depends on {dependency}, which has no health check");
            }
        }
        return violations;
    }

    /// <summary>Secret-bearing variables hold exactly one <c>${VAR}</c> reference (no inline value, no default); a
    /// connection string's password is a reference too.</summary>
    public static IReadOnlyList<string> NoInlineSecrets(ComposeFile compose)
    {
        var violations = new List<string>();
        foreach (var service in compose.Services)
        {
            foreach (var (name, value) in service.Environment)
            {
                if (name.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
                {
                    var password = Regex.Match(value, @"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*(?<value>[^;]*)");
                    if (password.Success && !IsPlainReference(password.Groups["value"].Value))
                        violations.Add($"{service.Name}: {name} has a password that is not a ${{VAR}} reference");
                }
                else if (SecretName().IsMatch(name) && !IsPlainReference(value))
                {
                    violations.Add($"{service.Name}: secret {name} is not a plain ${{VAR}} reference");
                }
            }
        }
        return violations;
    }

    /// <summary>Every variable the compose file interpolates is in <c>.env.example</c> with a comment, and the example
    /// lists nothing the compose file does not use and holds no values.</summary>
    public static IReadOnlyList<string> VariablesDocumented(ComposeFile compose, IReadOnlyList<EnvEntry> example)
    {
        var violations = new List<string>();
        var used = Variables(compose.Text);
        var documented = example.ToDictionary(e => e.Name);
        foreach (var name in used.Order(StringComparer.Ordinal))
        {
            if (!documented.TryGetValue(name, out var entry)) violations.Add($"${{{name}}} is used by the compose file but missing from .env.example");
            else if (entry.Comments.Count == 0 || entry.Comments.All(string.IsNullOrWhiteSpace)) violations.Add($"{name} has no comment in .env.example");
        }
        foreach (var entry in example)
        {
            if (!used.Contains(entry.Name)) violations.Add($"{entry.Name} is in .env.example but the compose file never uses it");
            if (entry.Value.Length != 0) violations.Add($"{entry.Name} has a value in .env.example; the example documents, the ignored .env holds values");
        }
        return violations;
    }

    /// <summary>Images are pinned by tag: no <c>latest</c>, no untagged names, and an image chosen by a variable has
    /// a pinned default or a documented variable.</summary>
    public static IReadOnlyList<string> PinnedImages(ComposeFile compose)
    {
        var violations = new List<string>();
        foreach (var service in compose.Services)
        {
            if (string.IsNullOrWhiteSpace(service.Image))
            {
                violations.Add($"{service.Name}: no image");
                continue;
            }
            var image = service.Image;
            var reference = Interpolation().Match(image);
            if (reference.Success && reference.Index == 0 && reference.Length == image.Length)
            {
                // ${VAR} alone is set by the operator (documented in .env.example); ${VAR:-default} must pin its default.
                if (!reference.Groups["modifier"].Success) continue;
                image = reference.Groups["default"].Value;
            }
            if (TagOf(image) is not { } tag) violations.Add($"{service.Name}: image '{service.Image}' has no tag");
            else if (tag.Equals("latest", StringComparison.OrdinalIgnoreCase)) violations.Add($"{service.Name}: image '{service.Image}' uses latest");
        }
        return violations;
    }

    /// <summary>Where a service names its user, it is not root.</summary>
    public static IReadOnlyList<string> NonRootUsers(ComposeFile compose) =>
        compose.Services.Where(s => s.User is { } user && user.Split(':')[0] is "root" or "0")
            .Select(s => $"{s.Name}: runs as root ({s.User})").ToList();

    public static IReadOnlySet<string> Variables(string text) =>
        Interpolation().Matches(text).Select(m => m.Groups["name"].Value)
            .Concat(Interpolation().Matches(text).SelectMany(m => Interpolation().Matches(m.Groups["default"].Value + "}").Select(n => n.Groups["name"].Value)))
            .ToHashSet(StringComparer.Ordinal);

    public static bool IsPlainReference(string value) =>
        Interpolation().Match(value) is { Success: true } m && m.Index == 0 && m.Length == value.Length && !m.Groups["modifier"].Success;

    public static string? TagOf(string image)
    {
        if (image.Contains('@', StringComparison.Ordinal)) return image[(image.IndexOf('@') + 1)..]; // digest-pinned
        var lastSlash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > lastSlash ? image[(colon + 1)..] : null;
    }

    public static TimeSpan? ParseDuration(string text)
    {
        // Compose durations: e.g. 30s, 1m30s, 1500ms.
        var total = TimeSpan.Zero;
        var rest = text;
        var any = false;
        while (rest.Length > 0)
        {
            var unitEnd = rest.IndexOfAny(['s', 'm', 'h', 'u']);
            if (unitEnd <= 0) return null;
            var end = unitEnd + 1;
            if (rest[unitEnd] is 'm' or 'u' && end < rest.Length && rest[end] == 's') end++;
            var match = SimpleDuration().Match(rest[..end]);
            if (!match.Success) return null;
            var number = double.Parse(match.Groups["number"].Value, System.Globalization.CultureInfo.InvariantCulture);
            total += match.Groups["unit"].Value switch
            {
                "us" => TimeSpan.FromMicroseconds(number),
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                _ => TimeSpan.FromHours(number),
            };
            rest = rest[end..];
            any = true;
        }
        return any ? total : null;
    }
}
