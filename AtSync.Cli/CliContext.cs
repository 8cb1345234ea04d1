using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace AtSync.Cli;

/// <summary>What a command runs with: the settings, text or JSON output, and a console for tables and progress.</summary>
public sealed class CliContext(CliEnvironment environment, TextWriter output, TextWriter error, bool json)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public CliEnvironment Environment { get; } = environment;
    public TextWriter Output { get; } = output;
    public TextWriter Error { get; } = error;
    public bool Json { get; } = json;

    public DateTimeOffset Now => Environment.Time.GetUtcNow();

    /// <summary>Tables and progress bars; wide and without colour when the output is not a terminal (scripts, tests).</summary>
    public IAnsiConsole Console { get; } = CreateConsole(output);

    public void WriteJson<T>(T value) => Output.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public void WriteLine(string line) => Output.WriteLine(line);

    public int Fail(int code, string message)
    {
        Error.WriteLine($"atsync: {message}");
        return code;
    }

    public void Write(Table table) => Console.Write(table);

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        var redirected = !ReferenceEquals(output, System.Console.Out) || System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected) console.Profile.Width = 250;
        return console;
    }

    public static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns) table.AddColumn(new TableColumn(Markup.Escape(column)));
        return table;
    }

    public static string Cell(object? value) => Markup.Escape(value?.ToString() ?? "-");

    public static DateTimeOffset? FromUnix(long? seconds) => seconds is null or 0 ? null : DateTimeOffset.FromUnixTimeSeconds(seconds.Value);
}
