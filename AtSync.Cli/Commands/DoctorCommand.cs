using System.CommandLine;
using System.Net.WebSockets;
using AtSync.Core.Settings;
using AtSync.Core.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AtSync.Cli.Commands;

/// <summary>
/// <c>atsync doctor</c>: settings, database, schema, phpBB tables and peers, each with a verdict (ok, warn, fail) and a
/// reason that never repeats a secret. Exit 0 when nothing failed, 1 otherwise.
/// </summary>
public static class DoctorCommand
{
    public enum Verdict { Ok, Warn, Fail }

    public sealed record Check(string Name, Verdict Verdict, string Detail);

    public static Command Create(AtSyncCommand.Runner run)
    {
        var timeout = new Option<string>("--timeout") { Description = "Per peer check", DefaultValueFactory = _ => "5s" };
        var command = new Command("doctor", "Check settings, database, schema and peers; each check with a verdict") { timeout };
        command.SetAction(run.Action(async (context, parse, cancellationToken) =>
        {
            if (!Durations.TryParse(parse.GetValue(timeout), out var peerTimeout)) return context.Fail(ExitCodes.Usage, "--timeout is not a duration");
            var checks = new List<Check>();
            var env = context.Environment;
            checks.Add(SettingsCheck<SecretFiles.SecretFileSetting>(env, "settings: secret files", "no problem with <NAME>_FILE settings"));
            var database = SettingsCheck<DatabaseOptions>(env, "settings: database", "connection string and table prefix valid");
            checks.Add(database);
            var forum = SettingsCheck<ForumOptions>(env, "settings: forum", "FORUM_DID and FORUM_PDS_URL valid");
            checks.Add(forum);
            if (forum.Verdict == Verdict.Ok && string.IsNullOrWhiteSpace(env.Configuration[SettingNames.ForumAppPassword]))
            {
                checks.Add(new Check("settings: forum account", Verdict.Warn, $"{SettingNames.ForumAppPassword} is missing (the QueueWorker needs it)"));
            }
            var network = SettingsCheck<NetworkOptions>(env, "settings: network", "relay, labeler and PLC directory URLs valid");
            checks.Add(network);
            checks.Add(SettingsCheck<TokenEncryptionOptions>(env, "settings: token keys", "keys valid, current version present"));

            if (database.Verdict == Verdict.Ok) checks.AddRange(await DatabaseChecksAsync(env, cancellationToken));
            else checks.Add(new Check("database", Verdict.Fail, "not checked: the database settings are invalid"));

            if (forum.Verdict == Verdict.Ok && network.Verdict == Verdict.Ok)
            {
                var f = env.Settings<ForumOptions>();
                var n = env.Settings<NetworkOptions>();
                checks.Add(await HttpPeerAsync("peer: forum PDS", new Uri(new Uri(f.PdsUrl), "/xrpc/_health"), peerTimeout, cancellationToken));
                // The directory answers for the forum's own did:plc (its document names the forum's PDS); did:web forums only need it reachable.
                var plcProbe = f.Did.StartsWith("did:plc:", StringComparison.Ordinal)
                    ? new Uri(new Uri(n.PlcDirectoryUrl.TrimEnd('/') + "/"), Uri.EscapeDataString(f.Did))
                    : new Uri(new Uri(n.PlcDirectoryUrl.TrimEnd('/') + "/"), "_health");
                checks.Add(await HttpPeerAsync("peer: PLC directory", plcProbe, peerTimeout, cancellationToken));
                checks.Add(await HttpPeerAsync("peer: labeler", HttpBase(n.LabelerUrl), peerTimeout, cancellationToken));
                checks.Add(await RelayAsync(new Uri(n.RelayUrl), peerTimeout, cancellationToken));
            }

            var failed = checks.Any(c => c.Verdict == Verdict.Fail);
            if (context.Json)
            {
                context.WriteJson(new { ok = !failed, checks = checks.Select(c => new { name = c.Name, verdict = c.Verdict.ToString().ToLowerInvariant(), detail = c.Detail }) });
            }
            else
            {
                foreach (var c in checks) context.WriteLine($"{Label(c.Verdict),-5} {c.Name}: {c.Detail}");
                context.WriteLine(failed ? "doctor: problems found" : "doctor: all checks passed");
            }
            return failed ? ExitCodes.Failed : ExitCodes.Ok;
        }));
        return command;
    }

    private static string Label(Verdict verdict) => verdict switch { Verdict.Ok => "ok", Verdict.Warn => "warn", _ => "FAIL" };

    private static Check SettingsCheck<T>(CliEnvironment env, string name, string ok) where T : class
    {
        try
        {
            _ = env.Configuration; // the same host as every command
            _ = GetOptions<T>(env);
            return new Check(name, Verdict.Ok, ok);
        }
        catch (OptionsValidationException ex)
        {
            return new Check(name, Verdict.Fail, (ServiceRunner.DescribeSettingsFailure(ex) ?? "invalid").TrimEnd('.'));
        }
    }

    private static T GetOptions<T>(CliEnvironment env) where T : class => env.Options<T>();

    private static async Task<IEnumerable<Check>> DatabaseChecksAsync(CliEnvironment env, CancellationToken cancellationToken)
    {
        var checks = new List<Check>();
        var tables = env.Tables;
        MySqlConnection connection;
        try
        {
            connection = await env.OpenAsync(cancellationToken);
        }
        catch (MySqlException ex)
        {
            return [new Check("database", Verdict.Fail, $"cannot connect (MySQL error {(int)ex.ErrorCode})")];
        }
        await using (connection)
        {
            await using (var version = new MySqlCommand("SELECT VERSION()", connection))
            {
                checks.Add(new Check("database", Verdict.Ok, $"connected, server {await version.ExecuteScalarAsync(cancellationToken)}"));
            }
            var known = SchemaMigrations.All.Select(m => m.Version).ToHashSet();
            var applied = new HashSet<int>();
            try
            {
                await using var read = new MySqlCommand($"SELECT version FROM {tables.SchemaMigrations}", connection);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) applied.Add(Convert.ToInt32(reader.GetValue(0)));
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoSuchTable)
            {
            }
            var missing = known.Except(applied).Order().ToList();
            var unknown = applied.Except(known).Order().ToList();
            checks.Add(missing.Count > 0
                ? new Check("schema", Verdict.Fail, $"migrations not applied: {string.Join(", ", missing)} (a service applies them when it starts)")
                : unknown.Count > 0
                    ? new Check("schema", Verdict.Warn, $"current, plus versions this atsync does not know: {string.Join(", ", unknown)} (a newer release?)")
                    : new Check("schema", Verdict.Ok, $"current ({known.Count} migrations)"));
            var phpbb = await OperatorQueries.CountAsync(connection,
                $"SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('{tables.PhpbbPosts}', '{tables.PhpbbTopics}', '{tables.PhpbbForums}', '{tables.PhpbbUsers}')",
                cancellationToken);
            checks.Add(phpbb == 4
                ? new Check("phpBB tables", Verdict.Ok, $"found under prefix {tables.Prefix}")
                : new Check("phpBB tables", Verdict.Fail, $"{4 - phpbb} of phpBB's tables are missing under prefix {tables.Prefix} (is phpBB installed?)"));
        }
        return checks;
    }

    private static Uri HttpBase(string url)
    {
        var uri = new Uri(url);
        var builder = new UriBuilder(uri) { Scheme = uri.Scheme switch { "ws" => "http", "wss" => "https", var s => s }, Port = uri.IsDefaultPort ? -1 : uri.Port };
        return builder.Uri;
    }

    /// <summary>Reachable when it answers HTTP at all; ok on 2xx, warn on another status.</summary>
    private static async Task<Check> HttpPeerAsync(string name, Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new Check(name, Verdict.Ok, $"{url.GetLeftPart(UriPartial.Authority)} answered {status}")
                : new Check(name, Verdict.Warn, $"{url.GetLeftPart(UriPartial.Authority)} reachable but answered {status}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new Check(name, Verdict.Fail, $"{url.GetLeftPart(UriPartial.Authority)} unreachable ({(ex is TaskCanceledException ? "timed out" : "connection failed")})");
        }
    }

    /// <summary>The relay: a WebSocket handshake on subscribeRepos, closed at once.</summary>
    private static async Task<Check> RelayAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(url, limit.Token);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "atsync doctor", limit.Token);
            return new Check("peer: relay", Verdict.Ok, $"{url.GetLeftPart(UriPartial.Authority)} accepted a subscribeRepos WebSocket");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            return new Check("peer: relay", Verdict.Fail, $"{url.GetLeftPart(UriPartial.Authority)}: no WebSocket ({(ex is OperationCanceledException ? "timed out" : "handshake failed")})");
        }
    }
}
