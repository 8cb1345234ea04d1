using System.Globalization;
using System.Text.RegularExpressions;
using AtSync.Core.Settings;
using AtSync.Firehose;
using AtSync.Testing;
using AtSync.Testing.Synthetic;
using AtSync.Tests.Infrastructure;

namespace AtSync.Tests.Firehose.Hostile;

/// <summary>
/// The Firehose as a real process against a test database, a loopback relay publishing signed frames and a loopback
/// PLC directory naming the frames' key: publish, wait for the cursor, read rows and the service's own /metrics.
/// </summary>
public sealed partial class HostileFirehose : IAsyncDisposable
{
    public const string BoardUri = $"at://{ServiceSettings.ForumDid}/net.vza.forum.board/3kboardgeneral";
    public static readonly global::AtSync.Core.Forum.StrongRef Board = new(BoardUri, "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5vadynilrvz6qcy");
    public static readonly DateTimeOffset T0 = new(2026, 7, 4, 15, 0, 0, TimeSpan.Zero);

    private readonly LoopbackRelay _relay;
    private readonly LoopbackPlc _plc;

    private HostileFirehose(TestDatabase database, uint forumId, ForumFrameFactory frames, LoopbackRelay relay, LoopbackPlc plc)
    {
        Database = database;
        ForumId = forumId;
        Frames = frames;
        _relay = relay;
        _plc = plc;
    }

    public TestDatabase Database { get; }

    public uint ForumId { get; }

    public ForumFrameFactory Frames { get; }

    public ServiceProcess? Service { get; private set; }

    /// <summary>A database with the schema and one board; the relay and PLC directory started; the service not yet.</summary>
    public static async Task<HostileFirehose> PrepareAsync()
    {
        var server = await MariaDbServer.SharedAsync();
        var database = await server.CreateDatabaseAsync();
        var forumId = await FirehoseHarness.PrepareForumAsync(database, BoardUri);
        var frames = ForumFrameFactory.Create();
        var relay = await LoopbackRelay.StartAsync(FirehoseStreams.SubscribeReposPath);
        var plc = await LoopbackPlc.StartAsync(frames.SigningKey.PublicKey);
        return new HostileFirehose(database, forumId, frames, relay, plc);
    }

    /// <summary>Starts the service (settings as deployed, plus <paramref name="extra"/>), publishes the frames and waits until their last seq is committed.</summary>
    public async Task RunAsync(IReadOnlyList<(long Seq, byte[] Frame)> frames, IDictionary<string, string?>? extra = null)
    {
        var settings = ServiceSettings.For(Database, ServiceSettings.NewTokenKeysJson());
        // These tests are about the posting policy: its defaults apply unless a test sets it.
        settings.Remove(PostingOptions.ModerationSetting);
        settings[SettingNames.ConnectionString] = new MySqlConnector.MySqlConnectionStringBuilder(Database.ConnectionString) { AllowUserVariables = false }.ConnectionString;
        settings[SettingNames.RelayUrl] = _relay.Url.ToString();
        settings[SettingNames.PlcDirectoryUrl] = _plc.BaseUri.ToString();
        settings["Firehose__LabelsEnabled"] = "false";
        settings["Firehose__BatchMaxDelay"] = "00:00:00.100";
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        _relay.Publish(frames);
        Service = ServiceProcess.Start("AtSync.Firehose", settings);
        await WaitForCursorAsync(frames[^1].Seq, TimeSpan.FromSeconds(90));
    }

    public async Task WaitForCursorAsync(long seq, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var cursor = await Database.ScalarAsync<long>($"SELECT COALESCE(MAX(cursor_value), 0) FROM {Database.Tables.Cursors} WHERE service = 'firehose'");
            if (cursor >= seq) return;
            if (Service!.HasExited) throw new InvalidOperationException($"the Firehose exited with {Service.ExitCode}:\n{Service.Output}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"cursor did not reach {seq}:\n{Service!.Output}");
    }

    /// <summary>
    /// A counter's value in the service's Prometheus scrape for the tag <paramref name="tag"/>=<paramref name="value"/>,
    /// waiting (briefly) until it reaches <paramref name="atLeast"/>: a batch is counted just after it commits.
    /// </summary>
    public async Task<long> CounterAsync(string metric, string tag, string value, long atLeast = 1)
    {
        var pattern = new Regex($@"^{Regex.Escape(metric)}\{{[^}}]*\b{Regex.Escape(tag)}=""{Regex.Escape(value)}""[^}}]*\}} (\d+)", RegexOptions.Multiline);
        long found = 0;
        for (var attempt = 0; attempt < 30; attempt++)
        {
            using var response = await Service!.GetAsync("/metrics");
            var text = await response.Content.ReadAsStringAsync();
            found = pattern.Matches(text).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            if (found >= atLeast) return found;
            await Task.Delay(100);
        }
        return found;
    }

    public Task<long> SkippedAsync(string reason, long atLeast = 1) => CounterAsync("atsync_firehose_skipped_total", "reason", reason, atLeast);

    public Task<long> ForumOpsAsync(string action, long atLeast = 1) => CounterAsync("atsync_firehose_forum_ops_total", "action", action, atLeast);

    /// <summary>A phpBB member linked to <paramref name="did"/>; with <paramref name="session"/>, signed in through AtSync (tokens stored).</summary>
    public async Task<long> LinkMemberAsync(string did, string username, bool session = true, string email = "", int userType = 0)
    {
        var t = Database.Tables;
        var userId = await Database.ScalarAsync<long>($"SELECT COALESCE(MAX(user_id), 0) + 1 FROM {t.PhpbbUsers}");
        await Database.ExecuteAsync($"""
            INSERT INTO {t.PhpbbUsers} (user_id, user_type, group_id, username, username_clean, user_email, user_permissions, user_sig)
            VALUES ({userId}, {userType}, 2, '{username}', '{username.ToLowerInvariant()}', '{email}', '', '')
            """);
        await Database.ExecuteAsync($"""
            INSERT INTO {t.Users} (user_id, did, handle, access_token, refresh_token, created_at, updated_at)
            VALUES ({userId}, '{did}', '', {(session ? "'sealed-access'" : "NULL")}, {(session ? "'sealed-refresh'" : "NULL")}, 0, 0)
            """);
        return userId;
    }

    public async ValueTask DisposeAsync()
    {
        if (Service is not null) await Service.DisposeAsync();
        await _relay.DisposeAsync();
        await _plc.DisposeAsync();
        Frames.Dispose();
        await Database.DisposeAsync();
    }
}
