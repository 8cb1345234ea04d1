using System.CommandLine;
using AtSync.Cli.Commands;
using MySqlConnector;

namespace AtSync.Cli;

/// <summary>
/// The <c>atsync</c> command tree (System.CommandLine). Every command has <c>--help</c>; <c>--json</c> (on every
/// command) switches to machine-readable output; exit codes are <see cref="ExitCodes"/>.
/// </summary>
public static class AtSyncCommand
{
    public static readonly Option<bool> Json = new("--json") { Description = "Write machine-readable JSON instead of tables", Recursive = true };

    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("atsync: operate an AtSync deployment (phpBB ⇄ AT Protocol). Uses the services' settings from the environment.");
        root.Options.Add(Json);
        var run = new Runner(output, error);
        root.Subcommands.Add(StatusCommand.Create(run));
        root.Subcommands.Add(DeadLettersCommand.Create(run));
        root.Subcommands.Add(CursorCommand.Create(run));
        root.Subcommands.Add(UsersCommand.Create(run));
        root.Subcommands.Add(BoardsCommand.Create(run));
        root.Subcommands.Add(KeysCommand.Create(run));
        root.Subcommands.Add(ReplayCommand.Create(run));
        root.Subcommands.Add(DoctorCommand.Create(run));
        root.Subcommands.Add(BackfillCommand.Create(run));
        root.Subcommands.Add(ReposCommand.Create(run));
        root.Subcommands.Add(AccessCommand.Create(run));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = Build(output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"atsync: {problem.Message}");
            error.WriteLine("atsync: see 'atsync --help'");
            return ExitCodes.Usage;
        }
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Ctrl+C / SIGTERM cancel the running command, which stops at its next safe point (keys reencrypt: after a batch).
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; interrupt.Cancel(); });
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; interrupt.Cancel(); });
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, interrupt.Token);
    }

    /// <summary>Runs a command body with its context, turning settings and database failures into one line and an exit code.</summary>
    public sealed class Runner(TextWriter output, TextWriter error)
    {
        public Func<ParseResult, CancellationToken, Task<int>> Action(Func<CliContext, ParseResult, CancellationToken, Task<int>> body) =>
            async (parse, cancellationToken) =>
            {
                using var environment = CliEnvironment.Create();
                var context = new CliContext(environment, output, error, parse.GetValue(Json));
                try
                {
                    return await body(context, parse, cancellationToken);
                }
                catch (SettingsException ex)
                {
                    return context.Fail(ExitCodes.Usage, ex.Message);
                }
                catch (Exception ex) when (AtSync.Core.Settings.ServiceRunner.DescribeSettingsFailure(ex) is { } line)
                {
                    return context.Fail(ExitCodes.Usage, line);
                }
                catch (MySqlException ex)
                {
                    // MySqlConnector's messages can name hosts and users: the error number only.
                    return context.Fail(ExitCodes.Unavailable, $"database error {ex.ErrorCode} ({(int)ex.ErrorCode})");
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return context.Fail(ExitCodes.Failed, "interrupted");
                }
            };
    }
}
