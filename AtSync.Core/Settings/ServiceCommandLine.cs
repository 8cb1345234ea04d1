namespace AtSync.Core.Settings;

/// <summary>
/// What a service accepts on its command line: configuration overrides only (<c>--urls http://…</c>,
/// <c>--Key=value</c>, <c>--Section:Key value</c>), as the generic host reads them. <c>--help</c> prints the usage and
/// <c>--version</c> the version (exit 0); a bare word — a verb the service does not have — is refused with exit 2
/// instead of being ignored while the service starts. Operator verbs live in the <c>atsync</c> command.
/// </summary>
public static class ServiceCommandLine
{
    public enum Action { Run, Help, Version, Refuse }

    public sealed record Verdict(Action Action, string? Argument = null);

    private static readonly string[] HelpSwitches = ["--help", "-h", "-?", "/?", "/h", "help"];

    public static Verdict Classify(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (HelpSwitches.Contains(arg, StringComparer.OrdinalIgnoreCase)) return new Verdict(Action.Help);
            if (arg is "--version") return new Verdict(Action.Version);
            var isSwitch = arg.StartsWith("--", StringComparison.Ordinal) || arg.StartsWith('/') || arg.StartsWith('-');
            if (!isSwitch) return new Verdict(Action.Refuse, arg);
            if (arg.Length <= 2 || arg is "--") return new Verdict(Action.Refuse, arg);
            // "--key value": the next word is this switch's value, not a verb.
            if (!arg.Contains('=', StringComparison.Ordinal) && i + 1 < args.Count) i++;
        }
        return new Verdict(Action.Run);
    }

    /// <summary>Names a refused argument only when it looks like a verb: anything else could be a pasted secret.</summary>
    public static string Describe(string? argument) =>
        argument is { Length: > 0 and <= 32 } && argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') && char.IsAsciiLetter(argument[0])
            ? $"unknown command '{argument}'"
            : "unexpected command-line argument";

    public static string Usage(string service) => $"""
        Usage: {service} [--urls http://127.0.0.1:PORT] [--Section:Key=value ...]

        {service} is a long-running AtSync service; it takes no verbs. Settings come from the environment
        (README.md, "Configuration"); each secret can also be read from a file named by <NAME>_FILE.
        Endpoints: /health (readiness), /alive (liveness), /metrics (Prometheus).
        Operator commands (status, dead letters, cursors, keys, doctor): the `atsync` tool.
        Exit codes: 0 stopped normally, 2 invalid settings or command line.
        """;
}
